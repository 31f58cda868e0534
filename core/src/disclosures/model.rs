//! The words a disclosure is stored with.

crate::words! {
    /// Where a disclosure stands on its way: `draft` (also after being sent back), `submitted`
    /// (waiting for review), `reviewed` (secrecy checked, waiting for approval), `approved`
    /// (ready to publish), `published`.
    pub enum Status {
        Draft = "draft",
        Submitted = "submitted",
        Reviewed = "reviewed",
        Approved = "approved",
        Published = "published",
    }
}

crate::words! {
    /// Who may read it once published: the unit's own members (with its subtree), every member
    /// of the organisation, or anyone (the public archive, without signing in).
    pub enum Scope {
        Unit = "unit",
        Organisation = "organisation",
        Public = "public",
    }
}

crate::words! {
    /// What it discloses (DOMAIN.md): plans, meetings and their outcomes, the development of
    /// new members, dues, evaluations, or something else.
    pub enum Category {
        Plan = "plan",
        Meeting = "meeting",
        Development = "development",
        Dues = "dues",
        Evaluation = "evaluation",
        Other = "other",
    }
}
