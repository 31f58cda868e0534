//! Routes, one module per resource, each registered by its own `configure`.

pub mod audit;
pub mod auth;
pub mod broadcasts;
pub mod care;
pub mod compliance;
pub mod disclosures;
pub mod docs;
pub mod feedback;
pub mod health;
pub mod inbox;
pub mod meeting_series;
pub mod meetings;
pub mod members;
pub mod posts;
pub mod push;
pub mod study;
pub mod surveys;
pub mod units;
pub mod ws;

use actix_web::web;

pub fn configure(cfg: &mut web::ServiceConfig) {
    health::configure(cfg);
    docs::configure(cfg);
    crate::pages::configure(cfg);
    crate::console::configure(cfg);
    cfg.service(
        // The inbox first: a request is matched against the routes in order, and the ones with
        // a path parameter each cost a regex run; the inbox is what phones ask for most.
        web::scope("/api/v1")
            .configure(inbox::configure)
            .configure(audit::configure)
            .configure(auth::configure)
            .configure(units::configure)
            .configure(members::configure)
            .configure(posts::configure)
            .configure(broadcasts::configure)
            .configure(meetings::configure)
            .configure(meeting_series::configure)
            .configure(push::configure)
            .configure(study::configure)
            .configure(compliance::configure)
            .configure(care::configure)
            .configure(surveys::configure)
            .configure(feedback::configure)
            .configure(disclosures::configure)
            .configure(ws::configure),
    );
}
