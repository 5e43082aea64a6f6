//! Tracking beacons → screen resolution and colour depth, once per distinct beacon request.
//!
//! An access log knows nothing of the visitor's screen; a page learns it in JavaScript and
//! reports it by requesting a beacon URL (`/collect?sr=1920x1080&sd=24-bit`,
//! `/matomo.php?res=1920x1080`, AWStats' `…/awstats_misc_tracker.js?screen=1920x1080&cdi=24`,
//! or the snippet in `contrib/beacon/`). The first usable parameter of each kind wins, in the
//! order below. A parameter that is present but unusable (`res=abc`, `sr=99999999x1`,
//! `cd=-8`) is ignored and flagged, so runs can count it; an empty one is treated as absent.

use super::query::{params, percent_decode};

/// Parameters carrying a resolution as `WIDTHxHEIGHT`, in order of preference.
pub const RESOLUTION_PARAMS: [&str; 3] = ["res", "sr", "screen"];

/// Parameters carrying a colour depth in bits (`24`, `24-bit`), in order of preference.
pub const DEPTH_PARAMS: [&str; 3] = ["cd", "sd", "cdi"];

/// The largest screen side accepted, in pixels: above any display made (8K is 7680 wide;
/// three 5K monitors side by side are 15360), below what only garbage produces.
pub const MAX_SIDE: u32 = 32_768;

/// The largest colour depth accepted, in bits per pixel.
pub const MAX_DEPTH: u8 = 64;

/// What one beacon request says about the screen.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Screen {
    /// Width and height in pixels.
    pub resolution: Option<(u32, u32)>,
    /// Bits per pixel.
    pub color_depth: Option<u8>,
    /// A screen parameter was present but unusable.
    pub invalid: bool,
}

impl Screen {
    /// The resolution as reports show it: `1920x1080`.
    pub fn resolution_text(&self) -> Option<String> {
        self.resolution.map(|(w, h)| format!("{w}x{h}"))
    }
}

/// Reads the screen parameters of a beacon's query string.
pub fn screen_of(query: &[u8]) -> Screen {
    let mut screen = Screen::default();
    let mut resolution: [Option<Option<(u32, u32)>>; 3] = [None; 3];
    let mut depth: [Option<Option<u8>>; 3] = [None; 3];
    for (key, value) in params(query) {
        // Only the few screen parameters are decoded; a beacon carries many others.
        // Every screen parameter starts with c, r or s: most keys are rejected by one byte.
        if key.len() > 12
            || !matches!(
                key.first(),
                Some(b'c' | b'C' | b'r' | b'R' | b's' | b'S' | b'%')
            )
        {
            continue;
        }
        let key = percent_decode(key, true);
        let is = |name: &&str| key.eq_ignore_ascii_case(name.as_bytes());
        let slot = match (
            RESOLUTION_PARAMS.iter().position(is),
            DEPTH_PARAMS.iter().position(is),
        ) {
            (Some(i), _) if resolution[i].is_none() => Ok(i),
            (_, Some(i)) if depth[i].is_none() => Err(i),
            _ => continue,
        };
        let value = percent_decode(value, true);
        let value = value.trim_ascii();
        if value.is_empty() {
            continue;
        }
        match slot {
            Ok(i) => resolution[i] = Some(parse_resolution(value)),
            Err(i) => depth[i] = Some(parse_depth(value)),
        }
    }
    for r in resolution.into_iter().flatten() {
        match r {
            Some(r) if screen.resolution.is_none() => screen.resolution = Some(r),
            Some(_) => {}
            None => screen.invalid = true,
        }
    }
    for d in depth.into_iter().flatten() {
        match d {
            Some(d) if screen.color_depth.is_none() => screen.color_depth = Some(d),
            Some(_) => {}
            None => screen.invalid = true,
        }
    }
    screen
}

/// `1920x1080` (also `X`, `×` and `*` between, and spaces around the numbers).
fn parse_resolution(value: &[u8]) -> Option<(u32, u32)> {
    let (w, h) = match value.iter().position(|&b| matches!(b, b'x' | b'X' | b'*')) {
        Some(i) => (&value[..i], &value[i + 1..]),
        None => {
            let i = memchr::memmem::find(value, "×".as_bytes())?;
            (&value[..i], &value["×".len() + i..])
        }
    };
    Some((side(w)?, side(h)?))
}

fn side(text: &[u8]) -> Option<u32> {
    let n = number(text.trim_ascii())?;
    (1..=MAX_SIDE).contains(&n).then_some(n)
}

/// `24`, `24-bit`, `24bit`, `24 bits`.
fn parse_depth(value: &[u8]) -> Option<u8> {
    let digits = value.iter().take_while(|b| b.is_ascii_digit()).count();
    let unit = value[digits..].trim_ascii_start();
    let unit = unit.strip_prefix(b"-").unwrap_or(unit);
    let unit_ok =
        unit.is_empty() || unit.eq_ignore_ascii_case(b"bit") || unit.eq_ignore_ascii_case(b"bits");
    if !unit_ok {
        return None;
    }
    let n = number(&value[..digits])?;
    u8::try_from(n).ok().filter(|d| (1..=MAX_DEPTH).contains(d))
}

/// Plain decimal digits only: no sign, no fraction, nothing that overflows.
fn number(text: &[u8]) -> Option<u32> {
    if text.is_empty() || text.len() > 9 || !text.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(text.iter().fold(0, |n, &d| n * 10 + u32::from(d - b'0')))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(query: &str) -> Screen {
        screen_of(query.as_bytes())
    }

    #[test]
    fn every_form() {
        // Google Analytics' /collect.
        assert_eq!(
            s("v=1&sr=1920x1080&sd=24-bit&dl=x"),
            Screen {
                resolution: Some((1920, 1080)),
                color_depth: Some(24),
                invalid: false
            }
        );
        // Matomo / Piwik: res only.
        assert_eq!(
            s("idsite=1&rec=1&res=1366x768").resolution,
            Some((1366, 768))
        );
        assert_eq!(s("idsite=1&rec=1&res=1366x768").color_depth, None);
        // AWStats' misc tracker.
        let a = s("screen=2560x1440&win=1200x800&cdi=30&java=true");
        assert_eq!(
            (a.resolution, a.color_depth),
            (Some((2560, 1440)), Some(30))
        );
        // Our snippet: res and cd.
        let a = s("res=390x844&cd=32");
        assert_eq!((a.resolution, a.color_depth), (Some((390, 844)), Some(32)));
        // Other spellings.
        assert_eq!(s("res=1280X720").resolution, Some((1280, 720)));
        assert_eq!(s("res=1280%C3%97720").resolution, Some((1280, 720)));
        assert_eq!(s("res=1280*720").resolution, Some((1280, 720)));
        assert_eq!(s("res=+1280+x+720+").resolution, Some((1280, 720)));
        assert_eq!(s("RES=800x600").resolution, Some((800, 600)));
        for depth in ["24", "24-bit", "24bit", "24%20bits", "24-BIT", "24 bit"] {
            assert_eq!(s(&format!("sd={depth}")).color_depth, Some(24), "{depth}");
        }
        assert_eq!(s("a=1"), Screen::default());
        assert_eq!(s(""), Screen::default());
    }

    #[test]
    fn garbage_is_ignored_and_flagged() {
        for q in [
            "res=abc",
            "sr=99999999x1",
            "sr=99999999999999999999x1",
            "res=-1920x1080",
            "res=1920x-1080",
            "res=0x0",
            "res=1920",
            "res=1920x1080x3",
            "res=1920.5x1080",
            "res=%FF%FEx1",
            "cd=-24",
            "cd=0",
            "cd=65",
            "cd=256",
            "sd=deep",
            "cdi=24.5",
        ] {
            let screen = s(q);
            assert!(screen.invalid, "{q}");
            assert_eq!((screen.resolution, screen.color_depth), (None, None), "{q}");
        }
        // An empty parameter is absent, not invalid.
        assert_eq!(s("res=&cd="), Screen::default());
    }

    #[test]
    fn the_first_usable_parameter_wins_in_order() {
        // res before sr before screen, whatever the order in the URL.
        assert_eq!(s("screen=1x1&sr=2x2&res=3x3").resolution, Some((3, 3)));
        // A repeated parameter: its first value.
        assert_eq!(s("res=3x3&res=4x4").resolution, Some((3, 3)));
        // One bad and one good: the good one is used, the bad one still counted.
        let a = s("res=abc&sr=1024x768");
        assert_eq!(a.resolution, Some((1024, 768)));
        assert!(a.invalid);
        assert_eq!(a.resolution_text().as_deref(), Some("1024x768"));
    }
}
