//! Recording forms for every entry kind, drawn from the entry types' own JSON schema (the one
//! the OpenAPI document publishes), so a field added to a kind appears in its form without a
//! form being written by hand: a boolean is a yes/no question, an enumeration radios, a list
//! of enumerated values checkboxes, a participant's `local_id` a choice among the people in
//! the entry, a list of objects repeated rows. This module is pure: schema to form, form
//! values to the details' JSON, and the form's markup.

use std::collections::HashMap;
use std::sync::LazyLock;

use maud::{Markup, html};
use safeguard_core::{EntryKind, FieldError};
use serde_json::{Map, Value};

/// How many rows a list of objects (a meeting's attendees) offers.
const ROWS: usize = 4;

/// The form of one entry kind's details.
#[derive(Debug)]
pub(crate) struct FormSpec {
    pub(crate) kind: EntryKind,
    pub(crate) fields: Vec<Field>,
}

/// One question.
#[derive(Debug)]
pub(crate) struct Field {
    /// The JSON key within its object.
    pub(crate) key: String,
    pub(crate) label: String,
    pub(crate) hint: Option<String>,
    pub(crate) required: bool,
    pub(crate) widget: Widget,
}

/// How a question is asked.
#[derive(Debug)]
pub(crate) enum Widget {
    /// A boolean: yes or no (and "not known" when optional).
    YesNo,
    /// A line of text.
    Text,
    /// A whole number, 0 or more.
    Number,
    /// One of several values.
    Choice(Vec<Choice>),
    /// Any of several values.
    Choices(Vec<Choice>),
    /// A participant of the entry, by `local_id`.
    Person,
    /// Participants of the entry.
    People,
    /// Agencies, by identifier.
    Agencies,
    /// Free values, one per line (census codes).
    Lines,
    /// A list of objects, as rows of their fields.
    Rows(Vec<Field>),
    /// An internally tagged choice (`{"type": "other", "text": ...}`): radios, each revealing
    /// the fields of its variant.
    Tagged { tag: String, variants: Vec<Variant> },
}

/// A value to choose and how it reads.
#[derive(Debug, Clone)]
pub(crate) struct Choice {
    pub(crate) value: String,
    pub(crate) label: String,
}

/// A tagged choice's variant.
#[derive(Debug)]
pub(crate) struct Variant {
    pub(crate) choice: Choice,
    pub(crate) fields: Vec<Field>,
}

/// The form values as sent: every value of every name, in order.
#[derive(Debug, Default, Clone)]
pub(crate) struct Values(HashMap<String, Vec<String>>);

impl Values {
    /// The values of a form as a browser sends it (`application/x-www-form-urlencoded`).
    pub(crate) fn from_form(body: &[u8]) -> Result<Self, FieldError> {
        serde_urlencoded::from_bytes::<Vec<(String, String)>>(body)
            .map(|pairs| Self::from_pairs(&pairs))
            .map_err(|e| FieldError::new("", format!("not a form: {e}")))
    }

    pub(crate) fn from_pairs(pairs: &[(String, String)]) -> Self {
        let mut map: HashMap<String, Vec<String>> = HashMap::new();
        for (k, v) in pairs {
            map.entry(k.clone()).or_default().push(v.clone());
        }
        Self(map)
    }

    /// The first value of `name`, trimmed; empty when absent.
    pub(crate) fn one(&self, name: &str) -> &str {
        self.0
            .get(name)
            .and_then(|v| v.first())
            .map_or("", |v| v.trim())
    }

    /// Every non-empty value of `name`.
    pub(crate) fn all(&self, name: &str) -> Vec<&str> {
        self.0
            .get(name)
            .map(|v| {
                v.iter()
                    .map(|s| s.trim())
                    .filter(|s| !s.is_empty())
                    .collect()
            })
            .unwrap_or_default()
    }
}

/// The HTML id of a form name (`details.attendees[0].role` → `details-attendees-0-role`), to
/// which an error summary links.
pub(crate) fn field_id(name: &str) -> String {
    let mut id = String::with_capacity(name.len());
    for c in name.chars() {
        if c.is_ascii_alphanumeric() || c == '_' {
            id.push(c);
        } else if !id.ends_with('-') {
            id.push('-');
        }
    }
    id.trim_end_matches('-').to_owned()
}

/// A key or value as words: `child_seen_alone` → `Child seen alone`.
pub(crate) fn words(key: &str) -> String {
    let mut out = String::with_capacity(key.len() + 4);
    let mut previous_lower = false;
    for c in key.chars() {
        if c == '_' || c == '-' {
            out.push(' ');
            previous_lower = false;
        } else if c.is_uppercase() && previous_lower {
            out.push(' ');
            out.extend(c.to_lowercase());
            previous_lower = false;
        } else {
            out.extend(c.to_lowercase());
            previous_lower = c.is_lowercase();
        }
    }
    crate::ui::capitalised(out.trim())
}

/// A schema description as a hint: code marks dropped, a participant's `local_id` spoken of
/// as the person.
fn hint(description: Option<&str>) -> Option<String> {
    let text = description?
        .replace("`local_id`s of the", "The")
        .replace("`local_id` of the", "The")
        .replace('`', "")
        .replace('\n', " ");
    let text = text.trim();
    (!text.is_empty()).then(|| crate::ui::sentence(text))
}

/// The meaning of enumerated values the types spell as codes.
fn coded_labels(schema: &str) -> Option<&'static [(&'static str, &'static str)]> {
    match schema {
        "ReferralSource" => Some(safeguard_core::ReferralSource::LABELS),
        "ClosureReason" => Some(safeguard_core::ClosureReason::LABELS),
        _ => None,
    }
}

/// Every kind's form, built once from the OpenAPI document's schemas.
static SPECS: LazyLock<Vec<FormSpec>> = LazyLock::new(|| {
    let doc = serde_json::to_value(<crate::openapi::ApiDoc as utoipa::OpenApi>::openapi())
        .expect("the OpenAPI document is JSON");
    let schemas = doc["components"]["schemas"].clone();
    specs_from(&schemas).expect("every entry kind's schema makes a form")
});

/// The form of `kind`.
pub(crate) fn spec(kind: EntryKind) -> &'static FormSpec {
    SPECS
        .iter()
        .find(|s| s.kind == kind)
        .expect("every kind has a form")
}

/// Builds every kind's form from the schemas of `EntryDetails`' variants.
fn specs_from(schemas: &Value) -> Result<Vec<FormSpec>, String> {
    let variants = schemas["EntryDetails"]["oneOf"]
        .as_array()
        .ok_or("EntryDetails is not a oneOf")?;
    let mut specs = Vec::new();
    for variant in variants {
        let parts = variant["allOf"]
            .as_array()
            .ok_or("a variant is not allOf")?;
        let mut kind = None;
        let mut fields = Vec::new();
        for part in parts {
            if let Some(tag) = part["properties"]["kind"]["enum"][0].as_str() {
                kind = EntryKind::parse(tag);
            } else {
                fields = object_fields(schemas, resolve(schemas, part)?)?;
            }
        }
        let kind = kind.ok_or("a variant has no kind")?;
        specs.push(FormSpec { kind, fields });
    }
    if specs.len() != EntryKind::ALL.len() {
        return Err(format!(
            "{} forms for {} kinds",
            specs.len(),
            EntryKind::ALL.len()
        ));
    }
    Ok(specs)
}

/// The schema a `$ref` names, or the schema itself.
fn resolve<'a>(schemas: &'a Value, schema: &'a Value) -> Result<&'a Value, String> {
    match schema["$ref"].as_str() {
        Some(reference) => {
            let name = reference.rsplit('/').next().unwrap_or(reference);
            schemas.get(name).ok_or_else(|| format!("no schema {name}"))
        }
        None => Ok(schema),
    }
}

fn ref_name(schema: &Value) -> Option<&str> {
    schema["$ref"].as_str().and_then(|r| r.rsplit('/').next())
}

fn object_fields(schemas: &Value, object: &Value) -> Result<Vec<Field>, String> {
    let required: Vec<&str> = object["required"]
        .as_array()
        .map(|r| r.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let Some(properties) = object["properties"].as_object() else {
        return Ok(Vec::new());
    };
    // The schema's properties are alphabetical; the type's own order is the better reading
    // order, but required questions first is the next best.
    let mut fields = properties
        .iter()
        .map(|(key, schema)| field(schemas, key, schema, required.contains(&key.as_str())))
        .collect::<Result<Vec<_>, _>>()?;
    fields.sort_by_key(|f| !f.required);
    Ok(fields)
}

fn field(schemas: &Value, key: &str, schema: &Value, required: bool) -> Result<Field, String> {
    // `Option<T>` is `oneOf [null, T]`, or a type list holding "null".
    let (schema, description) = match schema["oneOf"].as_array() {
        Some(options) if options.len() == 2 && options[0]["type"] == "null" => {
            (&options[1], options[1]["description"].as_str())
        }
        _ => (schema, schema["description"].as_str()),
    };
    let types: Vec<&str> = match &schema["type"] {
        Value::String(t) => vec![t.as_str()],
        Value::Array(ts) => ts.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    };
    let is_local_id = description.is_some_and(|d| d.starts_with("`local_id`"));
    let widget = if types.contains(&"boolean") {
        Widget::YesNo
    } else if types.contains(&"integer") {
        Widget::Number
    } else if types.contains(&"string") && is_local_id {
        Widget::Person
    } else if types.contains(&"string") {
        Widget::Text
    } else if types.contains(&"array") {
        let items = &schema["items"];
        let resolved = resolve(schemas, items)?;
        if let Some(values) = resolved["enum"].as_array() {
            Widget::Choices(choices(ref_name(items), values))
        } else if resolved["type"] == "object" {
            Widget::Rows(object_fields(schemas, resolved)?)
        } else if is_local_id {
            Widget::People
        } else if key.starts_with("agencies") {
            Widget::Agencies
        } else {
            Widget::Lines
        }
    } else if schema.get("$ref").is_some() {
        let resolved = resolve(schemas, schema)?;
        if let Some(values) = resolved["enum"].as_array() {
            Widget::Choice(choices(ref_name(schema), values))
        } else if let Some(variants) = resolved["oneOf"].as_array() {
            tagged(schemas, variants)?
        } else {
            return Err(format!(
                "{key}: a reference to neither an enum nor a choice"
            ));
        }
    } else {
        return Err(format!("{key}: no form for {schema}"));
    };
    Ok(Field {
        key: key.to_owned(),
        label: words(key),
        hint: hint(description),
        required,
        widget,
    })
}

fn choices(schema: Option<&str>, values: &[Value]) -> Vec<Choice> {
    let labels = schema.and_then(coded_labels);
    values
        .iter()
        .filter_map(Value::as_str)
        .map(|value| Choice {
            value: value.to_owned(),
            label: labels
                .and_then(|l| l.iter().find(|(code, _)| *code == value))
                .map_or_else(|| words(value), |(_, label)| crate::ui::capitalised(label)),
        })
        .collect()
}

/// An internally tagged enum: each variant an object whose `type` property is one constant.
fn tagged(schemas: &Value, variants: &[Value]) -> Result<Widget, String> {
    let tag = "type";
    let variants = variants
        .iter()
        .map(|v| {
            let value = v["properties"][tag]["enum"][0]
                .as_str()
                .ok_or("a tagged variant has no tag")?;
            let mut fields = object_fields(schemas, v)?;
            fields.retain(|f| f.key != tag);
            let label = hint(v["description"].as_str())
                .map(|h| h.trim_end_matches('.').to_owned())
                .unwrap_or_else(|| words(value));
            Ok(Variant {
                choice: Choice {
                    value: value.to_owned(),
                    label,
                },
                fields,
            })
        })
        .collect::<Result<Vec<_>, String>>()?;
    Ok(Widget::Tagged {
        tag: tag.to_owned(),
        variants,
    })
}

/// An error message as GOV.UK writes them: what to do, naming the question.
fn missing(field: &Field) -> String {
    let label = field.label.to_lowercase();
    match field.widget {
        Widget::Text | Widget::Number | Widget::Lines => format!("Enter the {label}"),
        _ => format!("Select the {label}"),
    }
}

/// The details' JSON from the form's values under `prefix` (`details`), with every field's
/// error at once, each named by its form name.
pub(crate) fn decode(spec: &FormSpec, values: &Values, prefix: &str) -> (Value, Vec<FieldError>) {
    let mut object = Map::new();
    object.insert("kind".into(), Value::from(spec.kind.as_str()));
    let mut errors = Vec::new();
    decode_fields(&spec.fields, values, prefix, &mut object, &mut errors);
    (Value::Object(object), errors)
}

fn decode_fields(
    fields: &[Field],
    values: &Values,
    prefix: &str,
    object: &mut Map<String, Value>,
    errors: &mut Vec<FieldError>,
) {
    for f in fields {
        let name = format!("{prefix}.{}", f.key);
        let one = values.one(&name);
        let value = match &f.widget {
            Widget::YesNo => match one {
                "yes" => Some(Value::Bool(true)),
                "no" => Some(Value::Bool(false)),
                _ => None,
            },
            Widget::Text | Widget::Person => (!one.is_empty()).then(|| Value::from(one)),
            Widget::Number if one.is_empty() => None,
            Widget::Number => match one.parse::<u32>() {
                Ok(n) => Some(Value::from(n)),
                Err(_) => {
                    errors.push(FieldError::new(
                        &name,
                        format!("{} must be a whole number, like 4", f.label),
                    ));
                    continue;
                }
            },
            Widget::Choice(options) if one.is_empty() => {
                let _ = options;
                None
            }
            Widget::Choice(options) => {
                if options.iter().any(|o| o.value == one) {
                    Some(Value::from(one))
                } else {
                    errors.push(FieldError::new(&name, missing(f)));
                    continue;
                }
            }
            Widget::Choices(options) => {
                let chosen = values.all(&name);
                if let Some(bad) = chosen
                    .iter()
                    .find(|c| !options.iter().any(|o| o.value == **c))
                {
                    errors.push(FieldError::new(
                        &name,
                        format!("{bad:?} is not one of the choices"),
                    ));
                    continue;
                }
                (!chosen.is_empty()).then(|| Value::from(chosen))
            }
            Widget::People | Widget::Agencies => {
                let chosen = values.all(&name);
                (!chosen.is_empty()).then(|| Value::from(chosen))
            }
            Widget::Lines => {
                let lines: Vec<&str> = one
                    .split(['\n', ','])
                    .map(str::trim)
                    .filter(|l| !l.is_empty())
                    .collect();
                (!lines.is_empty()).then(|| Value::from(lines))
            }
            Widget::Rows(row_fields) => {
                let mut rows = Vec::new();
                for i in 0..ROWS {
                    let row_prefix = format!("{name}[{i}]");
                    let filled = row_fields
                        .iter()
                        .any(|rf| !values.one(&format!("{row_prefix}.{}", rf.key)).is_empty());
                    if filled {
                        let mut row = Map::new();
                        decode_fields(row_fields, values, &row_prefix, &mut row, errors);
                        rows.push(Value::Object(row));
                    }
                }
                (!rows.is_empty()).then(|| Value::from(rows))
            }
            Widget::Tagged { tag, variants } => {
                match variants.iter().find(|v| v.choice.value == one) {
                    Some(variant) => {
                        let mut inner = Map::new();
                        inner.insert(tag.clone(), Value::from(one));
                        decode_fields(&variant.fields, values, &name, &mut inner, errors);
                        Some(Value::Object(inner))
                    }
                    None => None,
                }
            }
        };
        match value {
            Some(v) => {
                object.insert(f.key.clone(), v);
            }
            None if f.required => errors.push(FieldError::new(&name, missing(f))),
            None => {}
        }
    }
}

/// The form values that show `details` (an entry's details as JSON) under `prefix`: the
/// inverse of [`decode`], for a form filled from what is stored.
pub(crate) fn encode(spec: &FormSpec, details: &Value, prefix: &str) -> Vec<(String, String)> {
    let mut pairs = Vec::new();
    encode_fields(&spec.fields, details, prefix, &mut pairs);
    pairs
}

fn encode_fields(
    fields: &[Field],
    object: &Value,
    prefix: &str,
    pairs: &mut Vec<(String, String)>,
) {
    for f in fields {
        let name = format!("{prefix}.{}", f.key);
        let value = &object[&f.key];
        match (&f.widget, value) {
            (_, Value::Null) => {}
            (Widget::YesNo, Value::Bool(b)) => {
                pairs.push((name, if *b { "yes" } else { "no" }.into()));
            }
            (Widget::Rows(row_fields), Value::Array(rows)) => {
                for (i, row) in rows.iter().enumerate() {
                    encode_fields(row_fields, row, &format!("{name}[{i}]"), pairs);
                }
            }
            (Widget::Lines, Value::Array(lines)) => {
                let text: Vec<&str> = lines.iter().filter_map(Value::as_str).collect();
                pairs.push((name, text.join("\n")));
            }
            (_, Value::Array(items)) => {
                for item in items.iter().filter_map(Value::as_str) {
                    pairs.push((name.clone(), item.to_owned()));
                }
            }
            (Widget::Tagged { tag, variants }, Value::Object(_)) => {
                let chosen = value[tag].as_str().unwrap_or_default();
                pairs.push((name.clone(), chosen.to_owned()));
                if let Some(v) = variants.iter().find(|v| v.choice.value == chosen) {
                    encode_fields(&v.fields, value, &name, pairs);
                }
            }
            (_, Value::String(s)) => pairs.push((name, s.clone())),
            (_, other) => pairs.push((name, other.to_string())),
        }
    }
}

/// What a form offers to choose among: the people in the entry and the agencies.
pub(crate) struct Offered<'a> {
    /// `(local_id, name)` of everyone who may be named in the entry.
    pub(crate) people: &'a [(String, String)],
    /// `(identifier, name)` of every agency.
    pub(crate) agencies: &'a [(String, String)],
}

/// The questions of `spec` under `prefix`, showing `values` and each field's error.
pub(crate) fn render(
    spec: &FormSpec,
    values: &Values,
    errors: &HashMap<String, String>,
    offered: &Offered<'_>,
    prefix: &str,
) -> Markup {
    render_fields(&spec.fields, values, errors, offered, prefix)
}

fn render_fields(
    fields: &[Field],
    values: &Values,
    errors: &HashMap<String, String>,
    offered: &Offered<'_>,
    prefix: &str,
) -> Markup {
    html! {
        @for f in fields {
            (render_field(f, values, errors, offered, &format!("{prefix}.{}", f.key)))
        }
    }
}

fn optional(label: &str, required: bool) -> String {
    if required {
        label.to_owned()
    } else {
        format!("{label} (optional)")
    }
}

fn render_field(
    f: &Field,
    values: &Values,
    errors: &HashMap<String, String>,
    offered: &Offered<'_>,
    name: &str,
) -> Markup {
    let id = field_id(name);
    let error = errors.get(name);
    let hint_id = format!("{id}-hint");
    let error_id = format!("{id}-error");
    let described = [
        f.hint.as_ref().map(|_| hint_id.as_str()),
        error.map(|_| error_id.as_str()),
    ]
    .into_iter()
    .flatten()
    .collect::<Vec<_>>()
    .join(" ");
    let described = (!described.is_empty()).then_some(described);
    let group = if error.is_some() {
        "govuk-form-group govuk-form-group--error"
    } else {
        "govuk-form-group"
    };
    let hint = html! { @if let Some(h) = &f.hint { div class="govuk-hint" id=(hint_id) { (h) } } };
    let error_message = html! {
        @if let Some(e) = error {
            (crate::ui::error_message(&id, e))
        }
    };
    let label = optional(&f.label, f.required);
    let one = values.one(name);
    let chosen = values.all(name);
    let choice_list = |options: Vec<Choice>, multiple: bool| -> Markup {
        let (kind, class) = if multiple {
            ("checkbox", "govuk-checkboxes")
        } else {
            ("radio", "govuk-radios")
        };
        let small = if options.len() > 4 {
            " govuk-radios--small govuk-checkboxes--small"
        } else {
            ""
        };
        html! {
            div class=(group) {
                fieldset class="govuk-fieldset" aria-describedby=[described.clone()] {
                    legend class="govuk-fieldset__legend govuk-fieldset__legend--s" { (label) }
                    (hint) (error_message)
                    div class={ (class) (small) } data-module=(class) {
                        @for (i, o) in options.iter().enumerate() {
                            @let input_id = if i == 0 { id.clone() } else { format!("{id}-{i}") };
                            @let checked = if multiple { chosen.contains(&o.value.as_str()) } else { one == o.value };
                            div class={ (class) "__item" } {
                                input class={ (class) "__input" } id=(input_id) name=(name) type=(kind) value=(o.value) checked[checked];
                                label class={ "govuk-label " (class) "__label" } for=(input_id) { (o.label) }
                            }
                        }
                    }
                }
            }
        }
    };
    let yes_no = || {
        let mut options = vec![
            Choice {
                value: "yes".into(),
                label: "Yes".into(),
            },
            Choice {
                value: "no".into(),
                label: "No".into(),
            },
        ];
        if !f.required {
            options.push(Choice {
                value: String::new(),
                label: "Not known".into(),
            });
        }
        options
    };
    let people = || {
        offered
            .people
            .iter()
            .map(|(value, label)| Choice {
                value: value.clone(),
                label: label.clone(),
            })
            .collect::<Vec<_>>()
    };
    match &f.widget {
        Widget::YesNo => html! {
            div class=(group) {
                fieldset class="govuk-fieldset" aria-describedby=[described.clone()] {
                    legend class="govuk-fieldset__legend govuk-fieldset__legend--s" { (label) }
                    (hint) (error_message)
                    div class="govuk-radios govuk-radios--inline" data-module="govuk-radios" {
                        @for (i, o) in yes_no().iter().enumerate() {
                            @let input_id = if i == 0 { id.clone() } else { format!("{id}-{i}") };
                            div class="govuk-radios__item" {
                                input class="govuk-radios__input" id=(input_id) name=(name) type="radio" value=(o.value) checked[one == o.value && (values.0.contains_key(name) || !o.value.is_empty())];
                                label class="govuk-label govuk-radios__label" for=(input_id) { (o.label) }
                            }
                        }
                    }
                }
            }
        },
        Widget::Text | Widget::Number => {
            let class = match (&f.widget, error.is_some()) {
                (Widget::Number, false) => "govuk-input govuk-input--width-4",
                (Widget::Number, true) => "govuk-input govuk-input--width-4 govuk-input--error",
                (_, false) => "govuk-input",
                (_, true) => "govuk-input govuk-input--error",
            };
            let numeric = matches!(f.widget, Widget::Number);
            html! {
                div class=(group) {
                    label class="govuk-label govuk-label--s" for=(id) { (label) }
                    (hint) (error_message)
                    input class=(class) id=(id) name=(name) type="text" value=(one)
                        inputmode=[numeric.then_some("numeric")] spellcheck=[(!numeric).then_some("true")]
                        aria-describedby=[described.clone()];
                }
            }
        }
        Widget::Lines => html! {
            div class=(group) {
                label class="govuk-label govuk-label--s" for=(id) { (label) }
                (hint) (error_message)
                textarea class={ "govuk-textarea" @if error.is_some() { " govuk-textarea--error" } } id=(id) name=(name) rows="3" aria-describedby=[described.clone()] { (one) }
            }
        },
        Widget::Choice(options) => {
            let mut options = options.clone();
            if !f.required {
                options.push(Choice {
                    value: String::new(),
                    label: "Not known".into(),
                });
            }
            choice_list(options, false)
        }
        Widget::Choices(options) => choice_list(options.clone(), true),
        Widget::Person => choice_list(people(), false),
        Widget::People => choice_list(people(), true),
        Widget::Agencies => choice_list(
            offered
                .agencies
                .iter()
                .map(|(value, label)| Choice {
                    value: value.clone(),
                    label: label.clone(),
                })
                .collect(),
            true,
        ),
        Widget::Rows(row_fields) => html! {
            div class=(group) {
                fieldset class="govuk-fieldset" aria-describedby=[described.clone()] {
                    legend class="govuk-fieldset__legend govuk-fieldset__legend--s" { (label) }
                    (hint) (error_message)
                    @for i in 0..ROWS {
                        fieldset class="govuk-fieldset app-row" {
                            legend class="govuk-fieldset__legend govuk-fieldset__legend--xs" { (f.label) " " (i + 1) }
                            (render_fields(row_fields, values, errors, offered, &format!("{name}[{i}]")))
                        }
                    }
                }
            }
        },
        Widget::Tagged { variants, .. } => html! {
            div class=(group) {
                fieldset class="govuk-fieldset" aria-describedby=[described.clone()] {
                    legend class="govuk-fieldset__legend govuk-fieldset__legend--s" { (label) }
                    (hint) (error_message)
                    div class="govuk-radios" data-module="govuk-radios" {
                        @for (i, v) in variants.iter().enumerate() {
                            @let input_id = if i == 0 { id.clone() } else { format!("{id}-{i}") };
                            @let reveal = format!("{input_id}-conditional");
                            div class="govuk-radios__item" {
                                // No `data-aria-controls`: GOV.UK Frontend's reveal would put
                                // aria-expanded on the radio, which ARIA does not allow there
                                // (axe: critical; alphagov/govuk-frontend#979). Each answer's
                                // fields stay shown beneath it, as they are without JavaScript.
                                input class="govuk-radios__input" id=(input_id) name=(name) type="radio" value=(v.choice.value)
                                    checked[one == v.choice.value];
                                label class="govuk-label govuk-radios__label" for=(input_id) { (v.choice.label) }
                            }
                            @if !v.fields.is_empty() {
                                div class="govuk-radios__conditional" id=(reveal) {
                                    (render_fields(&v.fields, values, errors, offered, name))
                                }
                            }
                        }
                    }
                }
            }
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_has_a_form_and_every_field_a_way_to_be_asked() {
        for kind in EntryKind::ALL {
            let spec = spec(*kind);
            assert_eq!(spec.kind, *kind);
        }
        // A few the practice depends on, asked the right way.
        let visit = spec(EntryKind::HomeVisit);
        let seen = visit.fields.iter().find(|f| f.key == "child_seen").unwrap();
        assert!(seen.required);
        assert!(matches!(seen.widget, Widget::YesNo));
        let check = spec(EntryKind::BackgroundCheck);
        let subject = check.fields.iter().find(|f| f.key == "subject").unwrap();
        assert!(matches!(subject.widget, Widget::Person));
        let meeting = spec(EntryKind::LegalPlanningMeeting);
        let evidence = meeting
            .fields
            .iter()
            .find(|f| f.key == "evidence_present")
            .unwrap();
        assert!(
            matches!(&evidence.widget, Widget::Choices(c) if c.iter().any(|c| c.value == "medical_report"))
        );
        assert!(
            meeting
                .fields
                .iter()
                .any(|f| f.key == "attendees" && matches!(f.widget, Widget::Rows(_)))
        );
        let claim = spec(EntryKind::Claim);
        assert!(claim.fields.iter().any(
            |f| matches!(&f.widget, Widget::Tagged { variants, .. } if variants.iter().any(|v| v.choice.value == "injury_caused_by" && v.fields.len() == 1))
        ));
    }

    #[test]
    fn coded_values_are_offered_as_the_census_spells_them_and_read_as_their_meaning() {
        let contact = spec(EntryKind::Contact);
        let source = contact
            .fields
            .iter()
            .find(|f| f.key == "referral_source")
            .unwrap();
        let Widget::Choice(options) = &source.widget else {
            panic!("{source:?}")
        };
        assert_eq!(options[0].value, "1A");
        assert_eq!(options[0].label, "A family member");
    }

    fn pairs(items: &[(&str, &str)]) -> Values {
        Values::from_pairs(
            &items
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect::<Vec<_>>(),
        )
    }

    #[test]
    fn every_missing_answer_is_named_at_once() {
        let (_, errors) = decode(spec(EntryKind::HomeVisit), &Values::default(), "details");
        let named: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(named, ["details.child_seen", "details.child_seen_alone"]);
        assert_eq!(errors[0].reason, "Select the child seen");
    }

    #[test]
    fn a_form_reads_as_the_details_the_api_takes() {
        let values = pairs(&[
            ("details.stage", "held"),
            ("details.evidence_present", "police_report"),
            ("details.evidence_present", "assessment"),
            ("details.attendees[0].role", "lawyer"),
            ("details.attendees[0].seniority", "junior"),
            ("details.attendees[2].role", "team manager"),
            ("details.attendees[2].seniority", "senior"),
            ("details.threshold_met", "yes"),
        ]);
        let (details, errors) = decode(spec(EntryKind::LegalPlanningMeeting), &values, "details");
        assert!(errors.is_empty(), "{errors:?}");
        let typed: safeguard_core::EntryDetails = serde_json::from_value(details).unwrap();
        let safeguard_core::EntryDetails::LegalPlanningMeeting(m) = typed else {
            panic!()
        };
        assert_eq!(m.attendees.len(), 2);
        assert_eq!(m.attendees[1].seniority, safeguard_core::Seniority::Senior);
        assert_eq!(m.evidence_present.len(), 2);
        assert_eq!(m.threshold_met, Some(true));
    }

    #[test]
    fn a_bad_number_and_a_half_filled_row_are_named_by_their_fields() {
        let (_, errors) = decode(
            spec(EntryKind::MissingEpisode),
            &pairs(&[("details.hours", "about six")]),
            "details",
        );
        assert_eq!(errors[0].field, "details.hours");
        let (_, errors) = decode(
            spec(EntryKind::LegalPlanningMeeting),
            &pairs(&[
                ("details.stage", "held"),
                ("details.attendees[1].role", "lawyer"),
            ]),
            "details",
        );
        assert_eq!(errors[0].field, "details.attendees[1].seniority");
        assert_eq!(field_id(&errors[0].field), "details-attendees-1-seniority");
    }

    #[test]
    fn a_choice_not_offered_is_refused() {
        let (_, errors) = decode(
            spec(EntryKind::InjuryObserved),
            &pairs(&[
                ("details.body_site", "arm"),
                ("details.injury_type", "sprain"),
            ]),
            "details",
        );
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].field, "details.injury_type");
    }

    #[test]
    fn a_tagged_choice_takes_the_fields_of_the_variant_chosen() {
        let values = pairs(&[
            ("details.claimant", "a"),
            ("details.about", "b"),
            ("details.assertion", "injury_caused_by"),
            ("details.assertion.cause", "fell off the sofa"),
            ("details.assertion.text", "ignored: another variant's field"),
        ]);
        let (details, errors) = decode(spec(EntryKind::Claim), &values, "details");
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(
            details["assertion"],
            serde_json::json!({"type": "injury_caused_by", "cause": "fell off the sofa"})
        );
        let (_, errors) = decode(
            spec(EntryKind::Claim),
            &pairs(&[
                ("details.claimant", "a"),
                ("details.about", "b"),
                ("details.assertion", "other"),
            ]),
            "details",
        );
        assert_eq!(errors[0].field, "details.assertion.text");
    }

    #[test]
    fn details_of_every_kind_survive_a_form_both_ways() {
        // Details of every kind (the demo's richest of each, and the rest written out), put
        // into their form and read back, are the details they were.
        let examples = details_of_every_kind();
        let kinds: std::collections::HashSet<&str> =
            examples.iter().filter_map(|d| d["kind"].as_str()).collect();
        assert_eq!(kinds.len(), EntryKind::ALL.len());
        for details in examples {
            let kind = EntryKind::parse(details["kind"].as_str().unwrap()).unwrap();
            let form = encode(spec(kind), &details, "details");
            let (read, errors) = decode(spec(kind), &Values::from_pairs(&form), "details");
            assert!(errors.is_empty(), "{kind:?}: {errors:?}");
            let a: safeguard_core::EntryDetails = serde_json::from_value(details).unwrap();
            let b: safeguard_core::EntryDetails = serde_json::from_value(read).unwrap();
            assert_eq!(a, b, "{kind:?}");
        }
    }

    /// Details of every kind, written as the API takes them.
    fn details_of_every_kind() -> Vec<Value> {
        serde_json::from_str(include_str!("../tests/data/details_of_every_kind.json")).unwrap()
    }

    #[test]
    fn words_read_keys_and_values() {
        assert_eq!(words("child_seen_alone"), "Child seen alone");
        assert_eq!(words("FamilyMember"), "Family member");
        assert_eq!(
            field_id("details.attendees[0].role"),
            "details-attendees-0-role"
        );
    }
}
