//! The callers and the table: every operation and the status each caller gets.

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(super) enum Caller {
    /// No token.
    None,
    /// A plain member of unit A.
    Member,
    /// The secretary of unit A.
    SecIn,
    /// The secretary of unit B (A's sibling).
    SecOut,
    /// The bootstrap admin.
    Admin,
}

pub(super) const CALLERS: [Caller; 5] = [
    Caller::None,
    Caller::Member,
    Caller::SecIn,
    Caller::SecOut,
    Caller::Admin,
];

/// One operation and the status each caller gets.
pub(super) struct Row {
    pub(super) method: &'static str,
    pub(super) path: &'static str,
    /// None, Member, SecIn, SecOut, Admin.
    pub(super) expect: [u16; 5],
}

pub(super) const fn row(
    method: &'static str,
    path: &'static str,
    none: u16,
    member: u16,
    sec_in: u16,
    sec_out: u16,
    admin: u16,
) -> Row {
    Row {
        method,
        path,
        expect: [none, member, sec_in, sec_out, admin],
    }
}

/// What each caller gets. Objects named by a path id belong to unit A. Create calls ask for
/// unit A too: for the secretary of B that unit does not exist, and a body field naming
/// something that does not exist for the caller is a 400 naming the field (as for an id never
/// used; docs/authorization.md on `post_id`).
///
/// Member routes (`/api/v1/me*`, `/api/v1/inbox*`, `/api/v1/meetings*`) show every caller their
/// own view: the inbox item is the member's, so it is a 404 for anyone else; the meeting is
/// held for all of unit A (the member and A's secretary are invited, B's secretary and the
/// admin are not: 404).
#[rustfmt::skip]
pub(super) const MATRIX: &[Row] = &[
    //   method    path                                                  None Member SecIn SecOut Admin
    // Operations (public).
    row("GET",    "/healthz",                                            200, 200,   200,  200,   200),
    row("GET",    "/readyz",                                             200, 200,   200,  200,   200),
    row("GET",    "/metrics",                                            200, 200,   200,  200,   200),
    // Logins take credentials, not a bearer token: valid ones work whoever sends them.
    row("POST",   "/api/v1/auth/admin/login",                            200, 200,   200,  200,   200),
    row("POST",   "/api/v1/auth/wechat/login",                           200, 200,   200,  200,   200),
    row("POST",   "/api/v1/auth/wechat/bind",                            200, 200,   200,  200,   200),
    row("POST",   "/api/v1/auth/refresh",                                200, 200,   200,  200,   200),
    // Without a body, logout ends the bearer token's session.
    row("POST",   "/api/v1/auth/logout",                                 401, 200,   200,  200,   200),
    // Approving a console login ticket: admins and secretaries, as the console is theirs.
    row("POST",   "/api/v1/auth/console/approve",                        401, 403,   200,  200,   200),
    row("GET",    "/api/v1/me",                                          401, 200,   200,  200,   200),
    // The audit log: admins only.
    row("GET",    "/api/v1/admin/audit",                                 401, 403,   403,  403,   200),
    row("GET",    "/api/v1/admin/audit/verify",                          401, 403,   403,  403,   200),
    // Units and members.
    row("POST",   "/api/v1/admin/units",                                 401, 403,   201,  400,   201),
    row("GET",    "/api/v1/admin/units",                                 401, 403,   200,  200,   200),
    row("POST",   "/api/v1/admin/members",                               401, 403,   201,  400,   201),
    row("GET",    "/api/v1/admin/members",                               401, 403,   200,  200,   200),
    row("GET",    "/api/v1/admin/members/{id}",                          401, 403,   200,  404,   200),
    row("PATCH",  "/api/v1/admin/members/{id}",                          401, 403,   200,  404,   200),
    // Console password links are made by admins only.
    row("POST",   "/api/v1/admin/members/{id}/password-link",            401, 403,   403,  403,   201),
    // A roster line for unit A: B's secretary gets the line back as an error, nothing imported.
    row("POST",   "/api/v1/admin/members/import",                        401, 403,   200,  200,   200),
    // Posts.
    row("POST",   "/api/v1/admin/posts",                                 401, 403,   201,  400,   201),
    row("GET",    "/api/v1/admin/posts",                                 401, 403,   200,  200,   200),
    row("GET",    "/api/v1/admin/posts/{id}",                            401, 403,   200,  404,   200),
    row("PATCH",  "/api/v1/admin/posts/{id}",                            401, 403,   200,  404,   200),
    // Broadcasts.
    row("POST",   "/api/v1/admin/broadcasts",                            401, 403,   201,  400,   201),
    row("GET",    "/api/v1/admin/broadcasts",                            401, 403,   200,  200,   200),
    row("GET",    "/api/v1/admin/broadcasts/{id}",                       401, 403,   200,  404,   200),
    row("PATCH",  "/api/v1/admin/broadcasts/{id}",                       401, 403,   200,  404,   200),
    row("GET",    "/api/v1/admin/broadcasts/{id}/recipients",            401, 403,   200,  404,   200),
    row("POST",   "/api/v1/admin/broadcasts/{id}/cancel",                401, 403,   200,  404,   200),
    row("POST",   "/api/v1/admin/broadcasts/{id}/remind",                401, 403,   202,  404,   202),
    // Push: one's own consents; the templates are the admins'.
    row("POST",   "/api/v1/me/wechat/subscriptions",                     401, 200,   200,  200,   200),
    row("GET",    "/api/v1/me/wechat/subscriptions",                     401, 200,   200,  200,   200),
    // One's own push preferences.
    row("GET",    "/api/v1/me/push-preferences",                         401, 200,   200,  200,   200),
    row("PUT",    "/api/v1/me/push-preferences",                         401, 200,   200,  200,   200),
    row("GET",    "/api/v1/admin/push/templates",                        401, 403,   403,  403,   200),
    row("PUT",    "/api/v1/admin/push/templates/{kind}",                 401, 403,   403,  403,   200),
    row("DELETE", "/api/v1/admin/push/templates/{kind}",                 401, 403,   403,  403,   204),
    // Meetings, the organiser's side.
    row("POST",   "/api/v1/admin/meetings",                              401, 403,   201,  400,   201),
    row("GET",    "/api/v1/admin/meetings",                              401, 403,   200,  200,   200),
    row("GET",    "/api/v1/admin/meetings/summary",                      401, 403,   200,  200,   200),
    row("GET",    "/api/v1/admin/meetings/{id}",                         401, 403,   200,  404,   200),
    row("PATCH",  "/api/v1/admin/meetings/{id}",                         401, 403,   200,  404,   200),
    row("POST",   "/api/v1/admin/meetings/{id}/cancel",                  401, 403,   200,  404,   200),
    row("GET",    "/api/v1/admin/meetings/{id}/checkin-code",            401, 403,   200,  404,   200),
    row("POST",   "/api/v1/admin/meetings/{id}/attendance",              401, 403,   200,  404,   200),
    row("PUT",    "/api/v1/admin/meetings/{id}/minutes",                 401, 403,   200,  404,   200),
    row("POST",   "/api/v1/admin/meetings/{id}/make-up",                 401, 403,   201,  404,   201),
    row("GET",    "/api/v1/admin/meetings/{id}/attendance.csv",          401, 403,   200,  404,   200),
    // Meetings, the invitee's side.
    row("GET",    "/api/v1/meetings",                                    401, 200,   200,  200,   200),
    row("GET",    "/api/v1/meetings/{id}",                               401, 200,   200,  404,   404),
    row("POST",   "/api/v1/meetings/{id}/answer",                        401, 200,   200,  404,   404),
    row("POST",   "/api/v1/meetings/{id}/check-in",                      401, 200,   200,  404,   404),
    // Meeting series.
    row("POST",   "/api/v1/admin/meeting-series",                        401, 403,   201,  400,   201),
    row("GET",    "/api/v1/admin/meeting-series",                        401, 403,   200,  200,   200),
    row("GET",    "/api/v1/admin/meeting-series/{id}",                   401, 403,   200,  404,   200),
    row("POST",   "/api/v1/admin/meeting-series/{id}/cancel",            401, 403,   200,  404,   200),
    // The inbox: one's own only.
    row("GET",    "/api/v1/inbox",                                       401, 200,   200,  200,   200),
    row("GET",    "/api/v1/inbox/unread-count",                          401, 200,   200,  200,   200),
    row("GET",    "/api/v1/inbox/{id}",                                  401, 200,   404,  404,   404),
    row("POST",   "/api/v1/inbox/{id}/read",                             401, 200,   404,  404,   404),
    row("POST",   "/api/v1/inbox/read-all",                              401, 200,   200,  200,   200),
    // The study ledger: one's own reading and year; a unit's for its managers; targets an
    // admin's to change.
    row("POST",   "/api/v1/inbox/{id}/study",                            401, 200,   404,  404,   404),
    row("GET",    "/api/v1/me/study",                                    401, 200,   200,  200,   200),
    row("GET",    "/api/v1/admin/study",                                 401, 403,   200,  200,   200),
    row("GET",    "/api/v1/admin/study.csv",                             401, 403,   200,  200,   200),
    row("GET",    "/api/v1/admin/members/{id}/study",                    401, 403,   200,  404,   200),
    row("POST",   "/api/v1/admin/study/records",                         401, 403,   201,  404,   201),
    row("DELETE", "/api/v1/admin/study/records/{id}",                    401, 403,   204,  404,   204),
    row("GET",    "/api/v1/admin/study/targets",                         401, 403,   200,  200,   200),
    row("PUT",    "/api/v1/admin/study/targets",                         401, 403,   403,  403,   200),
    // A unit's study plan: its managers'.
    row("GET",    "/api/v1/admin/study/plans",                           401, 403,   200,  404,   200),
    row("PUT",    "/api/v1/admin/study/plans",                           401, 403,   200,  404,   200),
    row("PATCH",  "/api/v1/admin/study/plan-items/{id}",                 401, 403,   200,  404,   200),
    row("POST",   "/api/v1/admin/study/plans/{id}/publish",              401, 403,   200,  404,   200),
    // Visits and talks: the unit's managers only; the occasions set by admins.
    row("GET",    "/api/v1/admin/care/categories",                       401, 403,   200,  200,   200),
    row("PUT",    "/api/v1/admin/care/categories",                       401, 403,   403,  403,   200),
    row("POST",   "/api/v1/admin/care/records",                          401, 403,   201,  404,   201),
    row("GET",    "/api/v1/admin/care/records",                          401, 403,   200,  404,   200),
    row("DELETE", "/api/v1/admin/care/records/{id}",                     401, 403,   204,  404,   204),
    row("GET",    "/api/v1/admin/care/talks",                            401, 403,   200,  404,   200),
    // The meeting calendar: a unit's year for its managers; the cadence read by managers and set
    // by admins.
    row("GET",    "/api/v1/admin/compliance",                            401, 403,   200,  404,   200),
    row("GET",    "/api/v1/admin/compliance/rules",                      401, 403,   200,  200,   200),
    row("PUT",    "/api/v1/admin/compliance/rules",                      401, 403,   403,  403,   200),
    // Surveys: a unit's managers write, publish, close, remind and read participation and
    // results; those asked (unit A's member and secretary) read and answer, once each.
    row("GET",    "/api/v1/admin/surveys",                               401, 403,   200,  200,   200),
    row("POST",   "/api/v1/admin/surveys",                               401, 403,   201,  400,   201),
    row("GET",    "/api/v1/admin/surveys/{id}",                          401, 403,   200,  404,   200),
    row("PUT",    "/api/v1/admin/surveys/{id}",                          401, 403,   200,  404,   200),
    row("POST",   "/api/v1/admin/surveys/{id}/publish",                  401, 403,   200,  404,   200),
    row("POST",   "/api/v1/admin/surveys/{id}/close",                    401, 403,   200,  404,   200),
    row("POST",   "/api/v1/admin/surveys/{id}/remind",                   401, 403,   200,  404,   200),
    row("GET",    "/api/v1/admin/surveys/{id}/participation",            401, 403,   200,  404,   200),
    row("GET",    "/api/v1/admin/surveys/{id}/results",                  401, 403,   200,  404,   200),
    row("GET",    "/api/v1/admin/surveys/{id}/results.csv",              401, 403,   200,  404,   200),
    row("GET",    "/api/v1/surveys",                                     401, 200,   200,  200,   200),
    row("GET",    "/api/v1/surveys/{id}",                                401, 200,   200,  404,   404),
    row("POST",   "/api/v1/surveys/{id}/ballot",                         401, 204,   204,  404,   404),
    // Feedback: a member writes to their own unit (the admin has none) and follows their own
    // named thread; an anonymous thread is opened by its key, whoever holds it (unit B is too
    // small for one); the unit's managers answer.
    row("POST",   "/api/v1/feedback",                                    401, 201,   201,  201,   400),
    row("GET",    "/api/v1/feedback",                                    401, 200,   200,  200,   200),
    row("GET",    "/api/v1/feedback/{id}",                               401, 200,   404,  404,   404),
    row("POST",   "/api/v1/feedback/{id}/messages",                      401, 200,   404,  404,   404),
    row("POST",   "/api/v1/feedback/{id}/close",                         401, 200,   404,  404,   404),
    row("POST",   "/api/v1/anonymous-feedback",                          401, 201,   201,  400,   400),
    row("POST",   "/api/v1/anonymous-feedback/thread",                   401, 200,   200,  200,   200),
    row("POST",   "/api/v1/anonymous-feedback/messages",                 401, 200,   200,  200,   200),
    row("POST",   "/api/v1/anonymous-feedback/close",                    401, 200,   200,  200,   200),
    row("GET",    "/api/v1/admin/feedback",                              401, 403,   200,  200,   200),
    row("GET",    "/api/v1/admin/feedback/{id}",                         401, 403,   200,  404,   200),
    row("POST",   "/api/v1/admin/feedback/{id}/messages",                401, 403,   200,  404,   200),
    row("POST",   "/api/v1/admin/feedback/{id}/close",                   401, 403,   200,  404,   200),
    // Disclosures: unit A's managers take one through its steps (its reviewer is not who
    // submitted it; it is approved by an admin or a secretary above A); members of A read the
    // archive of A's disclosures, anyone the public ones.
    row("POST",   "/api/v1/admin/disclosures",                           401, 403,   201,  400,   201),
    row("GET",    "/api/v1/admin/disclosures",                           401, 403,   200,  200,   200),
    row("GET",    "/api/v1/admin/disclosures/{id}",                      401, 403,   200,  404,   200),
    row("PUT",    "/api/v1/admin/disclosures/{id}",                      401, 403,   200,  404,   200),
    row("POST",   "/api/v1/admin/disclosures/{id}/submit",               401, 403,   200,  404,   200),
    row("POST",   "/api/v1/admin/disclosures/{id}/review",               401, 403,   200,  404,   200),
    row("POST",   "/api/v1/admin/disclosures/{id}/approve",              401, 403,   403,  404,   200),
    row("POST",   "/api/v1/admin/disclosures/{id}/return",               401, 403,   200,  404,   200),
    row("POST",   "/api/v1/admin/disclosures/{id}/publish",              401, 403,   200,  404,   200),
    row("GET",    "/api/v1/disclosures",                                 401, 200,   200,  200,   200),
    row("GET",    "/api/v1/disclosures/{id}",                            401, 200,   200,  404,   200),
    row("GET",    "/api/v1/public/disclosures",                          200, 200,   200,  200,   200),
    row("GET",    "/api/v1/public/disclosures/{id}",                     200, 200,   200,  200,   200),
    // The live socket: a plain GET is not an upgrade, whoever sends it.
    row("GET",    "/api/v1/ws",                                          400, 400,   400,  400,   400),
];

/// Cells that need the meeting to have begun (check-in, attendance) or ended (minutes,
/// make-up): they run in the second phase.
pub(super) const LATE: [&str; 4] = [
    "/api/v1/meetings/{id}/check-in",
    "/api/v1/admin/meetings/{id}/attendance",
    "/api/v1/admin/meetings/{id}/minutes",
    "/api/v1/admin/meetings/{id}/make-up",
];
