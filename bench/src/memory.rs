//! What the benchmark process holds in memory.

/// Resident memory now and at its peak, from /proc (Linux).
pub fn memory() -> String {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|kb| kb.parse::<f64>().ok())
            .map_or_else(|| "unknown".into(), |kb| format!("{:.1} MiB", kb / 1024.0))
    };
    format!(
        "resident memory: {} now, {} at peak",
        field("VmRSS:"),
        field("VmHWM:")
    )
}
