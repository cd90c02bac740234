//! The settings panels as descriptions of their fields: routing (F2), privacy (F3) and
//! structured output (F4). Each
//! opens from a pane's `RequestSettings`, reads back into them (marking each bad field), and
//! keeps a live preview of the route the settings produce and the body they send. Pure.

use super::form::{Editor, Field, Form, Marked, Value};
use super::state::Library;
use crate::routing::{EndpointRegistry, HealthSnapshot};
use crate::schema_store::SchemaFile;
use crate::settings::RequestSettings;
use crate::wire::request::{
    DataCollection, Effort, MaxPrice, Partition, Percentiles, ProviderPreferences, ProviderSort,
    Quantization, SortBy, SortConfig, Threshold,
};

/// Which panel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PanelKind {
    /// Sort, thresholds, prices, providers, fallbacks, sampling (F2).
    Routing,
    /// Data collection, zero retention, distillable text (F3).
    Privacy,
    /// A JSON schema every answer must follow (F4).
    Structured,
}

impl PanelKind {
    /// The panel's title.
    pub fn title(self) -> &'static str {
        match self {
            PanelKind::Routing => "Routing",
            PanelKind::Privacy => "Privacy",
            PanelKind::Structured => "Structured output",
        }
    }
}

/// An open panel.
#[derive(Debug, Clone, PartialEq)]
pub struct Panel {
    /// Which one.
    pub kind: PanelKind,
    /// Its fields.
    pub form: Form,
    /// Applies to every pane (else the focused one).
    pub all: bool,
    /// The model the preview plans for (the focused pane's).
    pub model: String,
    /// The route these settings produce now, in words (empty without a router to ask).
    pub preview: Vec<String>,
    /// The body these settings send, pretty JSON.
    pub body: String,
    /// The user's saved presets (a new one must not take their names).
    pub saved_presets: crate::preset_store::Presets,
    /// The source's model ids (empty when its list is not loaded), for checking fallbacks.
    pub known_models: Vec<String>,
    /// Bumped on every key, paste and refresh: what the drawing cache is keyed by.
    pub rev: u64,
    /// The last drawing (area, theme, revision) and its cells, reused while nothing changed.
    pub drawn: Option<DrawnPanel>,
}

/// A panel's last drawing: what it was drawn for, and its cells.
pub type DrawnPanel = ((ratatui::layout::Rect, u64, u64), ratatui::buffer::Buffer);

const SORTS: [&str; 4] = ["price-weighted (default)", "price", "throughput", "latency"];
const PARTITIONS: [&str; 2] = ["model", "none"];
const EFFORTS: [&str; 7] = [
    "not set", "minimal", "low", "medium", "high", "xhigh", "max",
];
const QUANTS: [&str; 8] = ["int4", "int8", "fp4", "fp6", "fp8", "fp16", "bf16", "fp32"];

fn num(v: Option<f64>) -> String {
    v.map(|v| {
        let s = format!("{v}");
        s.strip_suffix(".0").map(str::to_string).unwrap_or(s)
    })
    .unwrap_or_default()
}

fn choice(options: &[&str], at: usize) -> Value {
    Value::Choice {
        options: options.iter().map(|s| s.to_string()).collect(),
        at,
    }
}

fn number(v: Option<f64>, unit: &'static str) -> Value {
    Value::Number { text: num(v), unit }
}

fn list(candidates: &[String], chosen: Option<&Vec<String>>) -> Value {
    let chosen = chosen.cloned().unwrap_or_default();
    // What was chosen stays a candidate even when nothing serves it now.
    let mut all = candidates.to_vec();
    for c in &chosen {
        if !all.contains(c) {
            all.push(c.clone());
        }
    }
    Value::List {
        candidates: all,
        chosen,
        at: 0,
    }
}

fn pct(t: Option<&Threshold>, i: usize) -> Option<f64> {
    match t? {
        Threshold::Value(v) if i == 0 => Some(*v),
        Threshold::Value(_) => None,
        Threshold::Percentiles(p) => [p.p50, p.p75, p.p90, p.p99][i],
    }
}

const LAT_KEYS: [&str; 4] = ["lat_p50", "lat_p75", "lat_p90", "lat_p99"];
const LAT_LABELS: [&str; 4] = [
    "max latency p50",
    "max latency p75",
    "max latency p90",
    "max latency p99",
];
const TPUT_KEYS: [&str; 4] = ["tput_p50", "tput_p75", "tput_p90", "tput_p99"];
const TPUT_LABELS: [&str; 4] = [
    "min throughput p50",
    "min throughput p75",
    "min throughput p90",
    "min throughput p99",
];

/// The structured-output panel's "start from" entries: keep what is there, each template, each
/// saved schema file.
fn starts(schemas: &[SchemaFile]) -> Vec<String> {
    let mut v = vec!["(as it is)".to_string()];
    v.extend(
        crate::schema::TEMPLATES
            .iter()
            .map(|(n, _, _)| format!("template: {n}")),
    );
    v.extend(schemas.iter().map(|f| format!("file: {}", f.name)));
    v
}

/// Opens `kind` on `s`; `providers` are the slugs that serve the pane's models (the candidates
/// of `order`, `only` and `ignore`); `lib` what the user saved (presets, schemas).
pub fn open(
    kind: PanelKind,
    s: &RequestSettings,
    providers: &[String],
    model: &str,
    lib: &Library,
) -> Panel {
    let p = s.provider.clone().unwrap_or_default();
    let fields = match kind {
        PanelKind::Routing => {
            let (by, partition) = match p.sort {
                None => (None, None),
                Some(ProviderSort::By(b)) => (Some(b), None),
                Some(ProviderSort::Config(c)) => (c.by, c.partition),
            };
            let sort_at = match by {
                Some(SortBy::Price) => 1,
                Some(SortBy::Throughput) => 2,
                Some(SortBy::Latency) => 3,
                _ => 0,
            };
            let mut presets = vec!["custom".to_string()];
            presets.extend(crate::preset_store::names(&lib.presets));
            let mut f = vec![
                Field::new(
                    "preset",
                    "preset",
                    Value::Choice {
                        options: presets,
                        at: 0,
                    },
                ),
                Field::new(
                    "fallbacks",
                    "fallback models",
                    Value::Text(s.fallbacks.join(", ")),
                ),
                Field::new("sort", "sort", choice(&SORTS, sort_at)),
                Field::new(
                    "partition",
                    "partition",
                    choice(&PARTITIONS, usize::from(partition == Some(Partition::None))),
                ),
            ];
            for i in 0..4 {
                // Latency thresholds are typed in seconds; the API takes seconds too.
                f.push(Field::new(
                    LAT_KEYS[i],
                    LAT_LABELS[i],
                    number(pct(p.preferred_max_latency.as_ref(), i), "s"),
                ));
            }
            for i in 0..4 {
                f.push(Field::new(
                    TPUT_KEYS[i],
                    TPUT_LABELS[i],
                    number(pct(p.preferred_min_throughput.as_ref(), i), "tok/s"),
                ));
            }
            let mp = p.max_price.unwrap_or_default();
            f.extend([
                Field::new(
                    "price_prompt",
                    "max price, prompt",
                    number(mp.prompt, "$/M"),
                ),
                Field::new(
                    "price_completion",
                    "max price, completion",
                    number(mp.completion, "$/M"),
                ),
                Field::new("order", "order", list(providers, p.order.as_ref())),
                Field::new("only", "only", list(providers, p.only.as_ref())),
                Field::new("ignore", "ignore", list(providers, p.ignore.as_ref())),
                Field::new(
                    "quantizations",
                    "quantizations",
                    list(
                        &QUANTS.map(String::from),
                        p.quantizations
                            .as_ref()
                            .map(|q| q.iter().map(|x| quant_name(*x)).collect())
                            .as_ref(),
                    ),
                ),
                Field::new(
                    "allow_fallbacks",
                    "allow fallbacks",
                    Value::Toggle(p.allow_fallbacks != Some(false)),
                ),
                Field::new(
                    "require_parameters",
                    "require parameters",
                    Value::Toggle(p.require_parameters == Some(true)),
                ),
                Field::new(
                    "system",
                    "system prompt",
                    Value::Text(s.system.clone().unwrap_or_default()),
                ),
                Field::new("temperature", "temperature", number(s.temperature, "0–2")),
                Field::new("top_p", "top_p", number(s.top_p, "0–1")),
                Field::new(
                    "max_tokens",
                    "max tokens",
                    number(s.max_tokens.map(f64::from), "tokens"),
                ),
                Field::new(
                    "effort",
                    "reasoning effort",
                    choice(
                        &EFFORTS,
                        s.reasoning_effort
                            .and_then(|e| EFFORTS.iter().position(|x| *x == effort_name(e)))
                            .unwrap_or(0),
                    ),
                ),
                Field::new("save_preset", "save as preset", Value::Text(String::new())),
            ]);
            f
        }
        PanelKind::Privacy => vec![
            Field::new(
                "deny",
                "deny data collection",
                Value::Toggle(p.data_collection == Some(DataCollection::Deny)),
            ),
            Field::new(
                "zdr",
                "zero data retention",
                Value::Toggle(p.zdr == Some(true)),
            ),
            Field::new(
                "distillable",
                "distillable text only",
                Value::Toggle(p.enforce_distillable_text == Some(true)),
            ),
            Field::new("eu", "EU processing only", Value::Toggle(s.eu)),
            Field::new(
                "history",
                "keep in local history",
                Value::Toggle(!s.unrecorded),
            ),
        ],
        PanelKind::Structured => {
            let (on, name, strict, text) = match &s.response_format {
                Some(crate::wire::request::ResponseFormat::JsonSchema { json_schema: j }) => (
                    true,
                    j.name.clone(),
                    j.strict != Some(false),
                    serde_json::to_string_pretty(&j.schema).unwrap_or_default(),
                ),
                _ => (
                    false,
                    crate::schema::TEMPLATES[0].1.to_string(),
                    true,
                    crate::schema::TEMPLATES[0].2.to_string(),
                ),
            };
            let starts = starts(&lib.schemas);
            vec![
                Field::new("on", "structured output", Value::Toggle(on)),
                Field::new(
                    "start",
                    "start from",
                    Value::Choice {
                        options: starts,
                        at: 0,
                    },
                ),
                Field::new("name", "name", Value::Text(name)),
                Field::new("strict", "strict", Value::Toggle(strict)),
                Field::new(
                    "require",
                    "require parameters",
                    Value::Toggle(!s.no_require_parameters),
                ),
                Field::new("save_as", "save as", Value::Text(String::new())),
                Field::new(
                    "schema",
                    "schema",
                    Value::Editor(Box::new(Editor::with_text(&text))),
                ),
            ]
        }
    };
    Panel {
        kind,
        form: Form::new(fields),
        all: false,
        model: model.to_string(),
        preview: Vec::new(),
        body: String::new(),
        saved_presets: lib.presets.clone(),
        known_models: Vec::new(),
        rev: 0,
        drawn: None,
    }
}

fn quant_name(q: Quantization) -> String {
    serde_json::to_value(q)
        .ok()
        .and_then(|v| v.as_str().map(String::from))
        .unwrap_or_default()
}

fn effort_name(e: Effort) -> String {
    serde_json::to_value(e)
        .ok()
        .and_then(|v| v.as_str().map(String::from))
        .unwrap_or_default()
}

/// The settings the panel's fields say, on top of `base`; every bad field is marked and the
/// result is `Err` when there is one.
pub fn read(panel: &mut Panel, base: &RequestSettings) -> Result<RequestSettings, Marked> {
    let f = &mut panel.form;
    f.clear_errors();
    let mut s = base.clone();
    let mut p = s.provider.clone().unwrap_or_default();
    let bad = std::cell::Cell::new(false);
    let n = |f: &mut Form, key: &str, min: f64, max: f64| {
        f.number(key, min, max).unwrap_or_else(|Marked| {
            bad.set(true);
            None
        })
    };
    match panel.kind {
        PanelKind::Routing => {
            let fallbacks: Vec<String> = f
                .text("fallbacks")
                .unwrap_or_default()
                .split(',')
                .map(|m| m.trim().to_string())
                .filter(|m| !m.is_empty())
                .collect();
            let unknown =
                |m: &String| !panel.known_models.is_empty() && !panel.known_models.contains(m);
            if let Some(m) = fallbacks.iter().find(|m| m.contains(char::is_whitespace)) {
                f.set_error(
                    "fallbacks",
                    format!(
                        "“{m}” is not a model id (ids have no spaces; separate them with commas)"
                    ),
                );
                bad.set(true);
            } else if let Some(m) = fallbacks.iter().find(|m| unknown(m)) {
                f.set_error(
                    "fallbacks",
                    format!("“{m}” is not in this source's model list"),
                );
                bad.set(true);
            }
            s.fallbacks = fallbacks;
            let by = match f.choice("sort") {
                "price" => Some(SortBy::Price),
                "throughput" => Some(SortBy::Throughput),
                "latency" => Some(SortBy::Latency),
                _ => None,
            };
            let partition = (f.choice("partition") == "none").then_some(Partition::None);
            p.sort = match (by, partition) {
                (None, _) => None,
                (Some(b), None) => Some(ProviderSort::By(b)),
                (Some(b), Some(pt)) => Some(ProviderSort::Config(SortConfig {
                    by: Some(b),
                    partition: Some(pt),
                })),
            };
            let mut lat = [None; 4];
            let mut tput = [None; 4];
            for i in 0..4 {
                lat[i] = n(f, LAT_KEYS[i], 0.0, 3600.0);
                tput[i] = n(f, TPUT_KEYS[i], 0.0, 1e6);
            }
            let threshold = |v: [Option<f64>; 4]| {
                v.iter()
                    .any(Option::is_some)
                    .then_some(Threshold::Percentiles(Percentiles {
                        p50: v[0],
                        p75: v[1],
                        p90: v[2],
                        p99: v[3],
                    }))
            };
            p.preferred_max_latency = threshold(lat);
            p.preferred_min_throughput = threshold(tput);
            let prompt = n(f, "price_prompt", 0.0, 1e6);
            let completion = n(f, "price_completion", 0.0, 1e6);
            p.max_price = (prompt.is_some() || completion.is_some()).then(|| MaxPrice {
                prompt,
                completion,
                ..Default::default()
            });
            let some = |v: Vec<String>| (!v.is_empty()).then_some(v);
            p.order = some(f.list("order"));
            p.only = some(f.list("only"));
            p.ignore = some(f.list("ignore"));
            if let (Some(only), Some(ignore)) = (&p.only, &p.ignore)
                && let Some(both) = only.iter().find(|x| ignore.contains(x))
            {
                f.set_error("ignore", format!("{both} is both in only and in ignore"));
                bad.set(true);
            }
            p.quantizations = some(f.list("quantizations")).map(|q| {
                q.iter()
                    .filter_map(|x| serde_json::from_value(serde_json::json!(x)).ok())
                    .collect()
            });
            p.allow_fallbacks = (!f.toggle("allow_fallbacks")).then_some(false);
            p.require_parameters = f.toggle("require_parameters").then_some(true);
            s.system = f.text("system");
            s.temperature = n(f, "temperature", 0.0, 2.0);
            s.top_p = n(f, "top_p", 0.0, 1.0);
            if s.top_p == Some(0.0) {
                f.set_error("top_p", "must be above 0");
                bad.set(true);
            }
            s.max_tokens = n(f, "max_tokens", 1.0, 10_000_000.0).map(|v| v as u32);
            s.reasoning_effort = match f.choice("effort") {
                "not set" => None,
                e => serde_json::from_value(serde_json::json!(e)).ok(),
            };
            if let Some(name) = f.text("save_preset")
                && let Err(e) = crate::preset_store::check_new_name(&name, &panel.saved_presets)
            {
                f.set_error("save_preset", e);
                bad.set(true);
            }
        }
        PanelKind::Privacy => {
            p.data_collection = f.toggle("deny").then_some(DataCollection::Deny);
            p.zdr = f.toggle("zdr").then_some(true);
            p.enforce_distillable_text = f.toggle("distillable").then_some(true);
            s.eu = f.toggle("eu");
            s.unrecorded = !f.toggle("history");
        }
        PanelKind::Structured => {
            s.no_require_parameters = !f.toggle("require");
            let name = f.text("name").unwrap_or_default();
            let on = f.toggle("on");
            if let Err(e) = crate::schema::check_name(&name) {
                f.set_error("name", e);
                if on {
                    bad.set(true);
                }
            }
            if let Some(file) = f.text("save_as")
                && let Err(e) = crate::schema::check_name(&file)
            {
                f.set_error("save_as", e);
                bad.set(true);
            }
            // The schema is checked even while off, so its errors show as it is typed.
            match crate::schema::check_text(&f.editor_text("schema")) {
                Ok(schema) => {
                    s.response_format = on.then(|| {
                        crate::schema::response_format(&name, f.toggle("strict"), schema.value)
                    });
                }
                Err(ps) => {
                    let more = match ps.len() {
                        1 => String::new(),
                        n => format!(" (and {} more)", n - 1),
                    };
                    f.set_error("schema", format!("{}{more}", ps[0]));
                    if on {
                        bad.set(true);
                    }
                    s.response_format = None;
                }
            }
            if !on {
                s.response_format = None;
            }
        }
    }
    s.provider = (p != ProviderPreferences::default()).then_some(p);
    if bad.get() { Err(Marked) } else { Ok(s) }
}

/// When the preset field changed: the preset's preferences on top of what the fields say, shown
/// in the fields (the preset's name stays chosen until another field changes).
pub fn apply_preset(panel: &mut Panel, base: &RequestSettings) {
    let name = panel.form.choice("preset").to_string();
    let Some(p) = crate::preset_store::find(&name, &panel.saved_presets) else {
        return;
    };
    let Ok(mut s) = read(panel, base) else { return };
    s.provider = Some(crate::settings::overlay(s.provider.unwrap_or_default(), p));
    let (focus, model, all) = (panel.form.focus, panel.model.clone(), panel.all);
    let providers = match panel.form.get("only").map(|f| &f.value) {
        Some(Value::List { candidates, .. }) => candidates.clone(),
        _ => Vec::new(),
    };
    let lib = Library {
        presets: panel.saved_presets.clone(),
        schemas: Vec::new(),
    };
    let mut fresh = open(panel.kind, &s, &providers, &model, &lib);
    if let Some(Field {
        value: Value::Choice { at, options },
        ..
    }) = fresh.form.fields.iter_mut().find(|f| f.key == "preset")
    {
        *at = options.iter().position(|o| *o == name).unwrap_or(0);
    }
    fresh.form.focus = focus;
    fresh.all = all;
    fresh.known_models = std::mem::take(&mut panel.known_models);
    *panel = fresh;
}

/// When "start from" changed: the template's or file's schema (and name) in the editor.
pub fn apply_start(panel: &mut Panel, schemas: &[SchemaFile]) {
    let start = panel.form.choice("start").to_string();
    let (name, text) = if let Some(t) = start.strip_prefix("template: ") {
        match crate::schema::TEMPLATES.iter().find(|(n, _, _)| *n == t) {
            Some((_, name, text)) => (name.to_string(), text.to_string()),
            None => return,
        }
    } else if let Some(f) = start.strip_prefix("file: ") {
        match schemas.iter().find(|s| s.name == f) {
            Some(s) => (
                crate::settings::default_schema_name(std::path::Path::new(&s.name)),
                s.text.clone(),
            ),
            None => return,
        }
    } else {
        return;
    };
    for f in &mut panel.form.fields {
        match (f.key, &mut f.value) {
            ("name", Value::Text(t)) => *t = name.clone(),
            ("schema", Value::Editor(e)) => **e = Editor::with_text(&text),
            _ => {}
        }
    }
}

/// Recomputes the preview and body from the fields (on every change and every health update).
pub fn refresh(
    panel: &mut Panel,
    base: &RequestSettings,
    router: Option<(&EndpointRegistry, &HealthSnapshot, bool)>,
    kind: crate::client::ServerKind,
) {
    let Ok(settings) = read(panel, base) else {
        panel.preview = vec!["fix the marked fields to see the route".into()];
        panel.body.clear();
        return;
    };
    let request = crate::settings::build(&panel.model, &settings, [], "");
    let body = crate::client::wire_body(kind, &request);
    panel.body = serde_json::to_string_pretty(&body).unwrap_or_default();
    panel.preview = match router {
        Some((registry, snapshot, forecast)) => {
            let p = crate::preview::preview(registry, snapshot, &request, settings.eu, forecast, 1);
            crate::preview::lines(registry, &p)
        }
        None => vec!["no router here to preview the route".into()],
    };
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::keymap::Action;

    fn typed(p: &mut Panel, key: &str, text: &str) {
        p.form.focus = p.form.fields.iter().position(|f| f.key == key).unwrap();
        for c in text.chars() {
            p.form.key(None, Some(c));
        }
    }

    #[test]
    fn every_routing_field_round_trips_through_the_settings() {
        let providers = vec!["alpha".to_string(), "beta".to_string()];
        let mut p = open(
            PanelKind::Routing,
            &RequestSettings::default(),
            &providers,
            "m/a",
            &Library::default(),
        );
        assert_eq!(
            read(&mut p, &RequestSettings::default()),
            Ok(RequestSettings::default())
        );
        p.form.focus = p.form.fields.iter().position(|f| f.key == "sort").unwrap();
        p.form.key(Some(Action::Sideways(1)), None); // sort: price
        p.form.key(Some(Action::Sideways(1)), None); // sort: throughput
        typed(&mut p, "fallbacks", "m/b, m/c");
        typed(&mut p, "lat_p90", "3");
        typed(&mut p, "price_completion", "2.5");
        p.form.focus = p.form.fields.iter().position(|f| f.key == "only").unwrap();
        p.form.key(Some(Action::Toggle), None);
        typed(&mut p, "temperature", "0.4");
        let s = read(&mut p, &RequestSettings::default()).unwrap();
        let prov = s.provider.clone().unwrap();
        assert_eq!(prov.sort, Some(ProviderSort::By(SortBy::Throughput)));
        assert_eq!(
            prov.preferred_max_latency,
            Some(Threshold::Percentiles(Percentiles {
                p90: Some(3.0),
                ..Default::default()
            }))
        );
        assert_eq!(prov.max_price.unwrap().completion, Some(2.5));
        assert_eq!(prov.only, Some(vec!["alpha".to_string()]));
        assert_eq!(s.temperature, Some(0.4));
        assert_eq!(s.fallbacks, ["m/b", "m/c"]);
        // Opening on those settings shows them again.
        let mut again = open(
            PanelKind::Routing,
            &s,
            &providers,
            "m/a",
            &Library::default(),
        );
        assert_eq!(read(&mut again, &RequestSettings::default()).unwrap(), s);
    }

    #[test]
    fn a_preset_fills_the_fields_it_stands_for() {
        let mut p = open(
            PanelKind::Routing,
            &RequestSettings::default(),
            &[],
            "m/a",
            &Library::default(),
        );
        // → from "custom" to the last preset wraps the other way: ← picks cheap-under-3s.
        p.form.key(Some(Action::Sideways(-1)), None);
        apply_preset(&mut p, &RequestSettings::default());
        assert_eq!(p.form.choice("preset"), "cheap-under-3s");
        assert_eq!(p.form.choice("sort"), "price");
        assert_eq!(p.form.get("lat_p90").unwrap().shown(), "3 s");
        let s = read(&mut p, &RequestSettings::default()).unwrap();
        assert_eq!(s.provider, crate::settings::preset("cheap-under-3s"));
    }

    #[test]
    fn fallback_models_are_checked_against_the_source_s_list() {
        let mut p = open(
            PanelKind::Routing,
            &RequestSettings::default(),
            &[],
            "m/a",
            &Library::default(),
        );
        p.known_models = vec!["m/a".into(), "m/b".into()];
        typed(&mut p, "fallbacks", "m/b, m/zzz");
        assert_eq!(read(&mut p, &RequestSettings::default()), Err(Marked));
        assert!(
            p.form
                .get("fallbacks")
                .unwrap()
                .error
                .clone()
                .unwrap()
                .contains("“m/zzz” is not in")
        );
        let mut p = open(
            PanelKind::Routing,
            &RequestSettings::default(),
            &[],
            "m/a",
            &Library::default(),
        );
        typed(&mut p, "fallbacks", "two words");
        assert_eq!(read(&mut p, &RequestSettings::default()), Err(Marked));
        // Without a model list, any id is taken as typed.
        let mut p = open(
            PanelKind::Routing,
            &RequestSettings::default(),
            &[],
            "m/a",
            &Library::default(),
        );
        typed(&mut p, "fallbacks", "local-llama");
        assert_eq!(
            read(&mut p, &RequestSettings::default()).unwrap().fallbacks,
            ["local-llama"]
        );
    }

    #[test]
    fn a_new_preset_may_not_take_a_name_in_use() {
        let mut lib = Library::default();
        lib.presets
            .insert("mine".into(), ProviderPreferences::default());
        let mut p = open(
            PanelKind::Routing,
            &RequestSettings::default(),
            &[],
            "m/a",
            &lib,
        );
        assert!(
            matches!(&p.form.get("preset").unwrap().value, Value::Choice { options, .. } if options.last().map(String::as_str) == Some("mine")),
            "saved presets are offered"
        );
        for (name, want) in [
            ("mine", "already exists"),
            ("cheapest", "built-in"),
            ("a b", "not allowed"),
        ] {
            p.form.fields.iter_mut().for_each(|f| {
                if f.key == "save_preset" {
                    f.value = Value::Text(name.into());
                }
            });
            assert_eq!(
                read(&mut p, &RequestSettings::default()),
                Err(Marked),
                "{name}"
            );
            let e = p.form.get("save_preset").unwrap().error.clone().unwrap();
            assert!(e.contains(want), "{name}: {e}");
        }
    }

    #[test]
    fn bad_fields_are_marked_and_nothing_reads_back() {
        let mut p = open(
            PanelKind::Routing,
            &RequestSettings::default(),
            &[],
            "m/a",
            &Library::default(),
        );
        typed(&mut p, "temperature", "7");
        typed(&mut p, "price_prompt", "1a");
        typed(&mut p, "lat_p50", "-1");
        assert_eq!(read(&mut p, &RequestSettings::default()), Err(Marked));
        let err = |k: &str| p.form.get(k).unwrap().error.clone().unwrap_or_default();
        assert_eq!(err("temperature"), "7 is outside 0–2");
        assert_eq!(err("price_prompt"), "“1a” is not a number");
        assert_eq!(err("lat_p50"), "-1 is outside 0–3600");
    }

    #[test]
    fn privacy_toggles_are_hard_filters_in_the_provider_object() {
        let mut p = open(
            PanelKind::Privacy,
            &RequestSettings::default(),
            &[],
            "m/a",
            &Library::default(),
        );
        p.form.key(Some(Action::Toggle), None);
        p.form.key(Some(Action::Select(1)), None);
        p.form.key(Some(Action::Toggle), None);
        let s = read(&mut p, &RequestSettings::default()).unwrap();
        let prov = s.provider.unwrap();
        assert_eq!(prov.data_collection, Some(DataCollection::Deny));
        assert_eq!(prov.zdr, Some(true));
        assert_eq!(prov.enforce_distillable_text, None);
    }
}
