//! When the platforms' daily quotas start again.

/// Unix seconds of the next daily quota reset after `now`: midnight in Beijing (UTC+8, no
/// daylight saving), i.e. 16:00 UTC. That the quotas reset at Beijing midnight is the
/// platform's usual behaviour, not a documented contract.
pub fn next_daily_reset(now: i64) -> i64 {
    const DAY: i64 = 86_400;
    const BEIJING: i64 = 8 * 3_600;
    let local = now.saturating_add(BEIJING);
    (local.div_euclid(DAY) + 1) * DAY - BEIJING
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn daily_reset_is_beijing_midnight() {
        // 2026-12-01T15:59:59Z is 23:59:59 in Beijing; the reset is one second later.
        let before = 1_796_140_799;
        assert_eq!(next_daily_reset(before), before + 1);
        // Exactly at the reset: the next one, a day later.
        assert_eq!(next_daily_reset(before + 1), before + 1 + 86_400);
        // 2026-12-01T00:00:00Z is 08:00 in Beijing: 16 hours to go.
        assert_eq!(next_daily_reset(1_796_083_200), 1_796_083_200 + 16 * 3_600);
    }
}
