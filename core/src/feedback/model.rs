//! The words a thread's state is stored as (`feedback.state`).

crate::words! {
    /// Where a thread stands.
    pub enum State {
        Open = "open",
        Answered = "answered",
        Closed = "closed",
    }
}
