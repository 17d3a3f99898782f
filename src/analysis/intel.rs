//! Threat intel: a CSV file of known-bad indicators, and lookups against it.
//!
//! The bundled file, `data/intel/indicators.csv`, contains the project's own demonstration
//! entries, not a live feed; [`IntelDb::from_path`] loads an analyst's file in the same
//! format. A domain entry also matches its subdomains, and a `cidr` entry matches every
//! address inside the block. URL and hash entries match exactly (hashes and the URL scheme
//! and host ignore case).

use std::collections::HashMap;
use std::net::IpAddr;
use std::path::Path;
use std::sync::OnceLock;

use super::{AnalysisError, Indicator, IndicatorKind, IntelMatch};

const BUNDLED_CSV: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/data/intel/indicators.csv"
));

const HEADER: &str = "indicator,kind,confidence,source,tags,first_seen,last_seen";

/// One parsed intel line; `key` is its lookup form (canonical address, lowercase domain).
#[derive(Debug, Clone)]
struct Entry {
    key: String,
    record: IntelMatch,
}

#[derive(Debug, Clone, Copy)]
struct CidrBlock {
    network: IpAddr,
    prefix: u8,
    entry: usize,
}

/// Indicators from an intel file, indexed for lookup.
#[derive(Debug, Default)]
pub struct IntelDb {
    entries: Vec<Entry>,
    /// Exact keys (addresses, domains, URLs, hashes) to entry positions.
    exact: HashMap<String, Vec<usize>>,
    cidrs: Vec<CidrBlock>,
}

impl IntelDb {
    /// Returns the intel file compiled into the binary, parsed on first use.
    ///
    /// # Panics
    /// Panics if the bundled file is invalid, which the unit tests rule out.
    pub fn bundled() -> &'static IntelDb {
        static DB: OnceLock<IntelDb> = OnceLock::new();
        DB.get_or_init(|| {
            IntelDb::parse(BUNDLED_CSV, "data/intel/indicators.csv").expect("bundled intel parses")
        })
    }

    /// Loads an intel file in the format of the bundled one.
    pub fn from_path(path: impl AsRef<Path>) -> Result<IntelDb, AnalysisError> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|e| AnalysisError::Intel {
            path: path.display().to_string(),
            line: 0,
            reason: format!("cannot read the file: {e}"),
        })?;
        IntelDb::parse(&text, &path.display().to_string())
    }

    /// Parses intel CSV text; `origin` names the file in errors.
    pub fn parse(text: &str, origin: &str) -> Result<IntelDb, AnalysisError> {
        let mut db = IntelDb::default();
        let mut header_seen = false;
        for (index, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let error = |reason: String| AnalysisError::Intel {
                path: origin.to_string(),
                line: index + 1,
                reason,
            };
            if !header_seen {
                if line != HEADER {
                    return Err(error(format!("expected the header line '{HEADER}'")));
                }
                header_seen = true;
                continue;
            }
            db.add_line(line).map_err(error)?;
        }
        Ok(db)
    }

    fn add_line(&mut self, line: &str) -> Result<(), String> {
        let fields: Vec<&str> = line.split(',').map(str::trim).collect();
        let [indicator, kind, confidence, source, tags, first_seen, last_seen] = fields[..] else {
            return Err(format!(
                "expected 7 comma-separated fields, found {}",
                fields.len()
            ));
        };
        let confidence: u8 = confidence
            .parse()
            .ok()
            .filter(|c| *c <= 100)
            .ok_or_else(|| format!("confidence '{confidence}' is not a number from 0 to 100"))?;
        let position = self.entries.len();
        let key = match kind {
            "cidr" => {
                let (network, prefix) = parse_cidr(indicator)?;
                self.cidrs.push(CidrBlock {
                    network,
                    prefix,
                    entry: position,
                });
                indicator.to_string()
            }
            "ipv4" | "ipv6" => {
                let address: IpAddr = indicator
                    .parse()
                    .map_err(|_| format!("'{indicator}' is not a valid IP address"))?;
                address.to_string()
            }
            "domain" | "md5" | "sha1" | "sha256" => indicator.trim_end_matches('.').to_lowercase(),
            "url" => normalise_url(indicator),
            other => {
                return Err(format!(
                    "unknown kind '{other}'; expected ipv4, ipv6, cidr, domain, url, md5, sha1 \
                     or sha256"
                ))
            }
        };
        let optional = |s: &str| (!s.is_empty()).then(|| s.to_string());
        let record = IntelMatch {
            indicator: indicator.to_string(),
            confidence,
            source: source.to_string(),
            tags: tags
                .split(';')
                .map(str::trim)
                .filter(|t| !t.is_empty())
                .map(String::from)
                .collect(),
            first_seen: optional(first_seen),
            last_seen: optional(last_seen),
        };
        if kind != "cidr" {
            self.exact.entry(key.clone()).or_default().push(position);
        }
        self.entries.push(Entry { key, record });
        Ok(())
    }

    /// Returns every intel entry that matches the indicator, most specific first: exact
    /// matches, then parent domains from the nearest up, then CIDR blocks.
    pub fn lookup(&self, indicator: &Indicator) -> Vec<IntelMatch> {
        let mut positions = Vec::new();
        match indicator.kind {
            IndicatorKind::Ipv4 | IndicatorKind::Ipv6 => {
                if let Ok(address) = indicator.value.parse::<IpAddr>() {
                    positions.extend(self.exact_positions(&address.to_string()));
                    positions.extend(self.cidr_positions(address));
                }
            }
            IndicatorKind::Domain => {
                let domain = indicator.value.trim_end_matches('.').to_lowercase();
                let mut rest = domain.as_str();
                loop {
                    positions.extend(self.exact_positions(rest));
                    match rest.split_once('.') {
                        Some((_, parent)) if parent.contains('.') => rest = parent,
                        _ => break,
                    }
                }
            }
            IndicatorKind::Url => {
                positions.extend(self.exact_positions(&normalise_url(&indicator.value)))
            }
            IndicatorKind::Md5 | IndicatorKind::Sha1 | IndicatorKind::Sha256 => {
                positions.extend(self.exact_positions(&indicator.value.to_lowercase()))
            }
        }
        positions
            .into_iter()
            .map(|p| self.entries[p].record.clone())
            .collect()
    }

    fn exact_positions(&self, key: &str) -> Vec<usize> {
        self.exact.get(key).cloned().unwrap_or_default()
    }

    fn cidr_positions(&self, address: IpAddr) -> Vec<usize> {
        self.cidrs
            .iter()
            .filter(|block| cidr_contains(block.network, block.prefix, address))
            .map(|block| block.entry)
            .collect()
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Iterates over the entries' indicator values, in file order.
    pub fn indicators(&self) -> impl Iterator<Item = &str> {
        self.entries.iter().map(|e| e.key.as_str())
    }
}

fn parse_cidr(text: &str) -> Result<(IpAddr, u8), String> {
    let invalid = || format!("'{text}' is not a valid CIDR block such as 5.101.40.0/24");
    let (address, prefix) = text.split_once('/').ok_or_else(invalid)?;
    let network: IpAddr = address.parse().map_err(|_| invalid())?;
    let prefix: u8 = prefix.parse().map_err(|_| invalid())?;
    let max = if network.is_ipv4() { 32 } else { 128 };
    if prefix > max {
        return Err(invalid());
    }
    Ok((network, prefix))
}

fn cidr_contains(network: IpAddr, prefix: u8, address: IpAddr) -> bool {
    match (network, address) {
        (IpAddr::V4(net), IpAddr::V4(ip)) => {
            let mask = u32::MAX.checked_shl(32 - u32::from(prefix)).unwrap_or(0);
            u32::from(net) & mask == u32::from(ip) & mask
        }
        (IpAddr::V6(net), IpAddr::V6(ip)) => {
            let mask = u128::MAX.checked_shl(128 - u32::from(prefix)).unwrap_or(0);
            u128::from(net) & mask == u128::from(ip) & mask
        }
        _ => false,
    }
}

/// Lowercases a URL's scheme and host, leaving the path as it is.
fn normalise_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let split = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (host, path) = rest.split_at(split);
    format!(
        "{}://{}{}",
        scheme.to_lowercase(),
        host.to_lowercase(),
        path
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn indicator(kind: IndicatorKind, value: &str) -> Indicator {
        Indicator {
            kind,
            value: value.to_string(),
        }
    }

    fn matched(kind: IndicatorKind, value: &str) -> Vec<String> {
        IntelDb::bundled()
            .lookup(&indicator(kind, value))
            .into_iter()
            .map(|m| m.indicator)
            .collect()
    }

    #[test]
    fn bundled_entry_count() {
        // 13 data lines in data/intel/indicators.csv (grep -vc '^#' minus the header).
        assert_eq!(IntelDb::bundled().len(), 13);
    }

    #[test]
    fn brute_force_source_matches_address_and_block() {
        let found = matched(IndicatorKind::Ipv4, "5.101.40.81");
        assert_eq!(
            found,
            vec!["5.101.40.81".to_string(), "5.101.40.0/24".to_string()]
        );
    }

    #[test]
    fn neighbour_matches_block_only() {
        assert_eq!(
            matched(IndicatorKind::Ipv4, "5.101.40.7"),
            vec!["5.101.40.0/24".to_string()]
        );
    }

    #[test]
    fn c2_host_confidence_and_tags() {
        let found = IntelDb::bundled().lookup(&indicator(IndicatorKind::Ipv4, "91.207.175.249"));
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].confidence, 95);
        assert!(found[0].tags.contains(&"c2".to_string()));
        assert_eq!(found[0].first_seen.as_deref(), Some("2023-11-20"));
    }

    #[test]
    fn subdomain_matches_parent() {
        assert_eq!(
            matched(IndicatorKind::Domain, "a.b.coinhive.com"),
            vec!["coinhive.com"]
        );
    }

    #[test]
    fn lookalike_domain_does_not_match() {
        assert!(matched(IndicatorKind::Domain, "notcoinhive.com").is_empty());
        assert!(matched(IndicatorKind::Domain, "com").is_empty());
    }

    #[test]
    fn ipv6_compared_canonically() {
        assert_eq!(
            matched(IndicatorKind::Ipv6, "2001:0db8:0:0:0:0:0:0bad"),
            vec!["2001:db8::bad"]
        );
    }

    #[test]
    fn url_and_hash_match_ignoring_case() {
        assert_eq!(
            matched(IndicatorKind::Url, "HTTP://91.207.175.249/x.sh").len(),
            1
        );
        assert_eq!(
            matched(IndicatorKind::Md5, "44D88612FEA8A8F36DE82E1278ABB02F").len(),
            1
        );
    }

    #[test]
    fn clean_address_has_no_match() {
        assert!(matched(IndicatorKind::Ipv4, "8.8.8.8").is_empty());
    }

    #[test]
    fn bad_confidence_names_line() {
        let text = format!("# c\n{HEADER}\n1.2.3.4,ipv4,250,s,t,,\n");
        let error = IntelDb::parse(&text, "feed.csv").unwrap_err().to_string();
        assert!(error.contains("feed.csv"), "{error}");
        assert!(error.contains("line 3"), "{error}");
        assert!(error.contains("250"), "{error}");
    }

    #[test]
    fn unknown_kind_rejected() {
        let text = format!("{HEADER}\nx,email,50,s,t,,\n");
        let error = IntelDb::parse(&text, "feed.csv").unwrap_err().to_string();
        assert!(error.contains("unknown kind 'email'"), "{error}");
    }

    #[test]
    fn missing_header_rejected() {
        assert!(IntelDb::parse("1.2.3.4,ipv4,50,s,t,,\n", "feed.csv").is_err());
    }

    #[test]
    fn from_path_reads_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("intel.csv");
        std::fs::write(&path, format!("{HEADER}\n198.51.100.0/24,cidr,30,s,t,,\n")).unwrap();
        let db = IntelDb::from_path(&path).unwrap();
        assert_eq!(
            db.lookup(&indicator(IndicatorKind::Ipv4, "198.51.100.9"))
                .len(),
            1
        );
    }
}
