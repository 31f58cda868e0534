//! What a process holds in memory.

/// This process's resident memory now and at its peak, from /proc (Linux).
pub fn memory() -> String {
    from_status(&std::fs::read_to_string("/proc/self/status").unwrap_or_default())
}

/// Another process's resident memory now and at its peak.
pub fn memory_of(pid: u32) -> String {
    from_status(&std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default())
}

fn from_status(status: &str) -> String {
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|kb| kb.parse::<f64>().ok())
            .map_or_else(|| "unknown".into(), |kb| format!("{:.1} MiB", kb / 1024.0))
    };
    format!(
        "resident memory {} now, {} at peak",
        field("VmRSS:"),
        field("VmHWM:")
    )
}
