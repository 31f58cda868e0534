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
    cfg.service(
        // The API first, and the inbox first in it: a request is matched against the routes in
        // order (twice: routing, and the request metrics' route template), and each route with
        // a path parameter before its own costs a regex run; the inbox is what phones ask for
        // most, and the console's routes before the API cost the page about 3% of its CPU.
        // No route outside this scope starts with `/api/v1/`.
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
    health::configure(cfg);
    docs::configure(cfg);
    crate::pages::configure(cfg);
    crate::console::configure(cfg);
}
