//! `switchyard plan`: the route each model's request would take right now and the exact body,
//! without sending anything. With Switchyard's router it is the router's own plan from the
//! health this run knows (saved by earlier runs); where a gateway routes (OpenRouter, the
//! fleet's aggregator) it is a forecast from the model's endpoint listing.

use crate::cli::PlanArgs;
use crate::runtime::Runtime;
use crate::settings::RequestSettings;
use crate::source::Source;
use std::time::Duration;

/// Prints the plans; the exit status is 0 when every model has a route, 1 when one has none,
/// 2 when there is nothing to plan with.
pub async fn run(src: &Source, models: &[String], settings: &RequestSettings, a: &PlanArgs) -> i32 {
    let rt = match Runtime::new(src) {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("switchyard: {e}");
            return 2;
        }
    };
    let Some((router, forecast)) = rt.tracked().map(|(r, observed)| (r.clone(), observed)) else {
        eprintln!("switchyard: this source has no router to plan with");
        return 2;
    };
    for m in models {
        rt.learn(m);
    }
    // A gateway's endpoint listings arrive in the background: wait (bounded) until every model
    // has endpoints, or go on with what is known.
    let mut registry = router.handle.registry();
    let known = |r: &crate::routing::EndpointRegistry| {
        models.iter().all(|m| {
            r.iter()
                .any(|(_, e)| &e.model == m || e.canonical.as_deref() == Some(m))
        })
    };
    let wait = if forecast { 10 } else { 0 };
    let _ = tokio::time::timeout(Duration::from_secs(wait), async {
        while !known(&registry.borrow_and_update()) {
            if registry.changed().await.is_err() {
                break;
            }
        }
    })
    .await;
    let registry = registry.borrow().clone();
    let snapshot = router.handle.snapshots().borrow().clone();
    let mut status = 0;
    for (i, m) in models.iter().enumerate() {
        let request = crate::settings::build(m, settings, [], &a.prompt);
        let body = crate::client::wire_body(src.endpoint.kind, &request);
        let body = serde_json::to_value(&body).unwrap_or_default();
        let p = crate::preview::preview(
            &registry,
            &snapshot,
            &request,
            settings.eu,
            forecast,
            i as u64 + 1,
        );
        if p.plan.is_err() {
            status = 1;
        }
        // Written with errors ignored: `plan | head` closing the pipe early is not a crash.
        let mut out = String::new();
        if a.json {
            let mut v = crate::preview::to_json(&registry, &p, &body);
            v["model"] = serde_json::json!(m);
            out.push_str(&format!("{v}\n"));
        } else {
            if models.len() > 1 {
                out.push_str(&format!("── {m}\n"));
            }
            for l in crate::preview::lines(&registry, &p) {
                out.push_str(&crate::safe_text::neutralise(&l));
                out.push('\n');
            }
            out.push_str("request body:\n");
            out.push_str(&serde_json::to_string_pretty(&body).unwrap_or_default());
            out.push('\n');
        }
        use std::io::Write;
        if std::io::stdout().write_all(out.as_bytes()).is_err() {
            return status;
        }
    }
    status
}
