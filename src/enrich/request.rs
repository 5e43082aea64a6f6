//! Request lines → method, path and kind (page, asset or beacon), once per distinct request.

use std::borrow::Cow;

use super::text::unescape;

/// The HTTP method, reduced to what the definitions need.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Get,
    Head,
    Post,
    /// `-`: the format logs no method (a W3C log without `cs-method`, SHOUTcast's, a
    /// `--log-format` with the path but no method). Page views count it as a `GET`.
    NotLogged,
    Other,
}

/// What a path serves (see the README's definitions).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PathKind {
    Page,
    Asset,
    Beacon,
}

/// A distinct request, classified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestParts {
    pub method: Method,
    /// The path: target without query and fragment, escapes resolved.
    pub path: Vec<u8>,
    pub kind: PathKind,
    /// The request target in origin form (path and query; an absolute target loses its
    /// scheme and host), escapes resolved.
    pub target: Vec<u8>,
}

/// What counts as an asset or a beacon.
#[derive(Debug, Clone)]
pub struct PathRules {
    /// Lower-case extensions without the dot.
    pub asset_extensions: Vec<String>,
    /// Exact paths of tracking beacons.
    pub beacon_paths: Vec<String>,
}

impl Default for PathRules {
    fn default() -> Self {
        PathRules {
            asset_extensions: [
                "css", "js", "mjs", "png", "jpg", "jpeg", "gif", "svg", "ico", "webp", "avif",
                "woff", "woff2", "ttf", "eot", "map", "mp4", "webm",
            ]
            .map(String::from)
            .to_vec(),
            beacon_paths: [
                "/collect",
                "/matomo.php",
                "/piwik.php",
                "/js/awstats_misc_tracker.js",
            ]
            .map(String::from)
            .to_vec(),
        }
    }
}

impl PathRules {
    pub fn kind(&self, path: &[u8]) -> PathKind {
        if self.beacon_paths.iter().any(|b| b.as_bytes() == path) {
            return PathKind::Beacon;
        }
        let last_segment = path.rsplit(|&b| b == b'/').next().unwrap_or(path);
        if let Some(dot) = memchr::memrchr(b'.', last_segment) {
            let ext = &last_segment[dot + 1..];
            if self
                .asset_extensions
                .iter()
                .any(|e| e.as_bytes().eq_ignore_ascii_case(ext))
            {
                return PathKind::Asset;
            }
        }
        PathKind::Page
    }
}

/// Splits a raw request line (`GET /a?b HTTP/1.1`) and classifies its path.
pub fn classify(raw: &[u8], rules: &PathRules) -> RequestParts {
    let request = unescape(raw);
    let request = request.trim_ascii();
    let (method, target) = match memchr::memchr(b' ', request) {
        Some(i) => {
            let rest = request[i + 1..].trim_ascii_start();
            // The protocol is the last word when there are three or more.
            let target = match memchr::memrchr(b' ', rest) {
                Some(j) if rest[j + 1..].starts_with(b"HTTP/") => rest[..j].trim_ascii_end(),
                _ => rest,
            };
            (method_of(&request[..i]), target)
        }
        None => (Method::Other, request),
    };
    let target = origin_form(target);
    let path = path_of(&target).to_vec();
    let kind = rules.kind(&path);
    RequestParts {
        method,
        path,
        kind,
        target: target.to_vec(),
    }
}

fn method_of(m: &[u8]) -> Method {
    match m {
        b"GET" => Method::Get,
        b"HEAD" => Method::Head,
        b"POST" => Method::Post,
        b"-" => Method::NotLogged,
        _ => Method::Other,
    }
}

/// An absolute target (`http://host/x?y`, as proxies log) in origin form (`/x?y`); other
/// targets as they are.
fn origin_form(target: &[u8]) -> Cow<'_, [u8]> {
    if let Some(i) = memchr::memmem::find(target, b"://")
        && target[..i].iter().all(|b| b.is_ascii_alphabetic())
    {
        let after = &target[i + 3..];
        return match memchr::memchr3(b'/', b'?', b'#', after) {
            Some(j) if after[j] == b'/' => Cow::Borrowed(&after[j..]),
            // `http://host?x`: the path is `/`.
            Some(j) => Cow::Owned([&b"/"[..], &after[j..]].concat()),
            None => Cow::Borrowed(b"/"),
        };
    }
    Cow::Borrowed(target)
}

/// Target in origin form → path: drops query and fragment.
fn path_of(target: &[u8]) -> &[u8] {
    let end = memchr::memchr2(b'?', b'#', target).unwrap_or(target.len());
    &target[..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(raw: &str) -> (Method, String, PathKind) {
        let p = classify(raw.as_bytes(), &PathRules::default());
        (p.method, String::from_utf8(p.path).unwrap(), p.kind)
    }

    #[test]
    fn splits_method_path_and_query() {
        assert_eq!(
            parts("GET /shop?id=3 HTTP/1.1"),
            (Method::Get, "/shop".into(), PathKind::Page)
        );
        assert_eq!(
            parts("POST /cart HTTP/2.0"),
            (Method::Post, "/cart".into(), PathKind::Page)
        );
        assert_eq!(
            parts("HEAD /#top HTTP/1.0"),
            (Method::Head, "/".into(), PathKind::Page)
        );
        assert_eq!(
            parts("GET /no-protocol"),
            (Method::Get, "/no-protocol".into(), PathKind::Page)
        );
        assert_eq!(
            parts("PROPFIND /dav HTTP/1.1"),
            (Method::Other, "/dav".into(), PathKind::Page)
        );
        // A request put together from a W3C or custom log without a method.
        assert_eq!(
            parts("- /stream?title=x"),
            (Method::NotLogged, "/stream".into(), PathKind::Page)
        );
        // A request line of a lone `-` (a connection closed before one came) has none.
        assert_eq!(parts("-"), (Method::Other, "-".into(), PathKind::Page));
    }

    #[test]
    fn absolute_targets_become_paths() {
        assert_eq!(parts("GET http://example.com/x?y HTTP/1.1").1, "/x");
        assert_eq!(parts("GET https://example.com HTTP/1.1").1, "/");
        let p = classify(
            b"GET https://example.com/a?b=1 HTTP/1.1",
            &PathRules::default(),
        );
        assert_eq!(p.target, b"/a?b=1");
        let p = classify(
            b"GET http://example.com?utm_source=x HTTP/1.1",
            &PathRules::default(),
        );
        assert_eq!(
            (p.path.as_slice(), p.target.as_slice()),
            (&b"/"[..], &b"/?utm_source=x"[..])
        );
    }

    #[test]
    fn assets_and_beacons() {
        assert_eq!(parts("GET /static/app.CSS?v=2 HTTP/1.1").2, PathKind::Asset);
        assert_eq!(parts("GET /img/logo.webp HTTP/1.1").2, PathKind::Asset);
        assert_eq!(parts("GET /fonts/a.woff2 HTTP/1.1").2, PathKind::Asset);
        assert_eq!(
            parts("GET /collect?v=2&sr=1920x1080 HTTP/1.1").2,
            PathKind::Beacon
        );
        assert_eq!(
            parts("GET /matomo.php?res=1x1 HTTP/1.1").2,
            PathKind::Beacon
        );
        assert_eq!(
            parts("GET /js/awstats_misc_tracker.js HTTP/1.1").2,
            PathKind::Beacon
        );
        assert_eq!(parts("GET /dir.css/page HTTP/1.1").2, PathKind::Page);
        assert_eq!(parts("GET /report.pdf HTTP/1.1").2, PathKind::Page);
        assert_eq!(parts("GET /v1.2/ HTTP/1.1").2, PathKind::Page);
    }

    #[test]
    fn garbage_requests_keep_their_text() {
        assert_eq!(parts(""), (Method::Other, "".into(), PathKind::Page));
        assert_eq!(parts(r"\x16\x03\x01").0, Method::Other);
        assert_eq!(parts(r#"GET /a\"b HTTP/1.1"#).1, "/a\"b");
    }
}
