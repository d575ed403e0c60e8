//! The return as XML: written in the element order of the DfE schema, read back child by
//! child with every fault of a child named by its XML path and never by its value.

use chrono::NaiveDate;
use quick_xml::Writer;
use quick_xml::events::{BytesDecl, BytesText, Event};
use roxmltree::Node;
use safeguard_core::Disability;

use super::{
    AssessmentDates, Child, CollectionYear, Episode, Gender, PlanDates, ProtectionPlan, Return,
    Section47Dates, category_code, from_code, parse_category,
};

type Xml = Writer<Vec<u8>>;

/// Writes a return as the census XML (UTF-8, two-space indents), with no time stamp, so that
/// the same entries always give the same file.
pub fn write(ret: &Return) -> String {
    let mut w = Writer::new_with_indent(Vec::new(), b' ', 2);
    write_message(&mut w, ret).expect("writing to memory cannot fail");
    let mut text = String::from_utf8(w.into_inner()).expect("the writer writes UTF-8");
    text.push('\n');
    text
}

fn write_message(w: &mut Xml, ret: &Return) -> std::io::Result<()> {
    w.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)))?;
    w.create_element("Message").write_inner_content(|w| {
        w.create_element("Header").write_inner_content(|w| {
            w.create_element("CollectionDetails")
                .write_inner_content(|w| {
                    text(w, "Collection", "CIN")?;
                    text(w, "Year", &ret.year.end_year().to_string())?;
                    date(w, "ReferenceDate", ret.year.end())
                })?;
            w.create_element("Source").write_inner_content(|w| {
                text(w, "SourceLevel", "L")?;
                text(w, "LEA", &ret.lea)?;
                text(w, "SoftwareCode", "Safeguard")
            })?;
            Ok(())
        })?;
        w.create_element("Children")
            .write_inner_content(|w| ret.children.iter().try_for_each(|c| write_child(w, c)))?;
        Ok(())
    })?;
    Ok(())
}

fn text(w: &mut Xml, name: &str, value: &str) -> std::io::Result<()> {
    w.create_element(name)
        .write_text_content(BytesText::new(value))?;
    Ok(())
}

fn date(w: &mut Xml, name: &str, value: NaiveDate) -> std::io::Result<()> {
    text(w, name, &value.format("%Y-%m-%d").to_string())
}

fn maybe_date(w: &mut Xml, name: &str, value: Option<NaiveDate>) -> std::io::Result<()> {
    value.map_or(Ok(()), |d| date(w, name, d))
}

fn yes_no(value: bool) -> &'static str {
    if value { "true" } else { "false" }
}

fn write_child(w: &mut Xml, c: &Child) -> std::io::Result<()> {
    w.create_element("Child").write_inner_content(|w| {
        w.create_element("ChildIdentifiers")
            .write_inner_content(|w| {
                text(w, "LAchildID", &c.la_child_id)?;
                if let Some(upn) = &c.upn {
                    text(w, "UPN", upn)?;
                }
                maybe_date(w, "PersonBirthDate", c.birth_date)?;
                maybe_date(w, "ExpectedPersonBirthDate", c.expected_birth_date)?;
                text(w, "GenderCurrent", c.gender.code())?;
                maybe_date(w, "PersonDeathDate", c.death_date)
            })?;
        w.create_element("ChildCharacteristics")
            .write_inner_content(|w| {
                text(w, "Ethnicity", c.ethnicity.code())?;
                if !c.disabilities.is_empty() {
                    w.create_element("Disabilities").write_inner_content(|w| {
                        c.disabilities
                            .iter()
                            .try_for_each(|d| text(w, "Disability", d.code()))
                    })?;
                }
                Ok(())
            })?;
        c.episodes.iter().try_for_each(|e| write_episode(w, e))
    })?;
    Ok(())
}

fn write_episode(w: &mut Xml, e: &Episode) -> std::io::Result<()> {
    w.create_element("CINdetails").write_inner_content(|w| {
        date(w, "CINreferralDate", e.referral_date)?;
        text(w, "ReferralSource", e.referral_source.code())?;
        if let Some(need) = e.primary_need {
            text(w, "PrimaryNeedCode", need.code())?;
        }
        if let Some((day, reason)) = e.closure {
            date(w, "CINclosureDate", day)?;
            text(w, "ReasonForClosure", reason.code())?;
        }
        maybe_date(w, "DateOfInitialCPC", e.initial_cpc)?;
        for a in &e.assessments {
            write_assessment(w, a)?;
        }
        for p in &e.cin_plans {
            w.create_element("CINPlanDates").write_inner_content(|w| {
                date(w, "CINPlanStartDate", p.start)?;
                maybe_date(w, "CINPlanEndDate", p.end)
            })?;
        }
        for s in &e.section47s {
            w.create_element("Section47").write_inner_content(|w| {
                date(w, "S47ActualStartDate", s.start)?;
                maybe_date(w, "InitialCPCtarget", s.icpc_target)?;
                maybe_date(w, "DateOfInitialCPC", s.icpc)?;
                text(w, "ICPCnotRequired", yes_no(s.icpc_not_required))
            })?;
        }
        text(w, "ReferralNFA", yes_no(e.referral_nfa))?;
        for p in &e.protection_plans {
            write_protection_plan(w, p)?;
        }
        Ok(())
    })?;
    Ok(())
}

fn write_assessment(w: &mut Xml, a: &AssessmentDates) -> std::io::Result<()> {
    w.create_element("Assessments").write_inner_content(|w| {
        date(w, "AssessmentActualStartDate", a.start)?;
        maybe_date(w, "AssessmentAuthorisationDate", a.authorised)?;
        if !a.factors.is_empty() {
            w.create_element("FactorsIdentifiedAtAssessment")
                .write_inner_content(|w| {
                    a.factors
                        .iter()
                        .try_for_each(|f| text(w, "AssessmentFactors", f))
                })?;
        }
        Ok(())
    })?;
    Ok(())
}

fn write_protection_plan(w: &mut Xml, p: &ProtectionPlan) -> std::io::Result<()> {
    w.create_element("ChildProtectionPlans")
        .write_inner_content(|w| {
            date(w, "CPPstartDate", p.start)?;
            maybe_date(w, "CPPendDate", p.end)?;
            text(
                w,
                "InitialCategoryOfAbuse",
                category_code(p.initial_category),
            )?;
            text(w, "LatestCategoryOfAbuse", category_code(p.latest_category))?;
            text(w, "NumberOfPreviousCPP", &p.previous_plans.to_string())?;
            if !p.reviews.is_empty() {
                w.create_element("Reviews").write_inner_content(|w| {
                    p.reviews
                        .iter()
                        .try_for_each(|d| date(w, "CPPreviewDate", *d))
                })?;
            }
            Ok(())
        })?;
    Ok(())
}

/// A file that is not a census return at all: nothing of it can be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReturnError {
    /// Not well-formed XML.
    #[error("line {line}: not well-formed XML: {reason}")]
    NotXml {
        /// The line of the fault.
        line: u32,
        /// What is wrong.
        reason: String,
    },
    /// Well-formed, but not a return.
    #[error("{path}: {reason}")]
    NotAReturn {
        /// Where.
        path: String,
        /// What is wrong.
        reason: String,
    },
}

/// One fault of a child: where, and what is wrong (never the value).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fault {
    /// The element's XML path (`/Message/Children/Child[2]/CINdetails[1]/ReferralSource`).
    pub path: String,
    /// What is wrong.
    pub reason: String,
}

impl std::fmt::Display for Fault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.path, self.reason)
    }
}

/// A child of a return that could not be read, with every fault found in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChildFault {
    /// Its place among the return's children, from 1.
    pub index: usize,
    /// What is wrong, where.
    pub faults: Vec<Fault>,
}

/// A return as read: its header and each child, read or refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadReturn {
    /// The collection year its header names.
    pub year: Option<CollectionYear>,
    /// The LEA code its header names.
    pub lea: Option<String>,
    /// Each child, in order.
    pub children: Vec<Result<Child, ChildFault>>,
}

/// Reads a return. A file that is not well-formed, or not a `<Message>` with `<Children>`, is
/// an error; a malformed child is refused with its faults while the others are read.
pub fn read(text: &str) -> Result<ReadReturn, ReturnError> {
    let doc = roxmltree::Document::parse(text).map_err(|e| ReturnError::NotXml {
        line: e.pos().row,
        reason: e.to_string(),
    })?;
    let root = doc.root_element();
    if root.tag_name().name() != "Message" {
        return Err(ReturnError::NotAReturn {
            path: "/".into(),
            reason: "the root element is not Message".into(),
        });
    }
    let mut header_faults = Reader::default();
    let header = element(&root, "Header");
    let year = header
        .and_then(|h| element(&h, "CollectionDetails"))
        .and_then(|c| element(&c, "Year"))
        .and_then(|y| {
            header_faults
                .number("/Message/Header/CollectionDetails/Year", &y)
                .map(|y| CollectionYear::ending(y as i32))
        });
    let lea = header
        .and_then(|h| element(&h, "Source"))
        .and_then(|s| element(&s, "LEA"))
        .map(|l| l.text().unwrap_or("").trim().to_owned());
    if let Some(fault) = header_faults.faults.first() {
        return Err(ReturnError::NotAReturn {
            path: fault.path.clone(),
            reason: fault.reason.clone(),
        });
    }
    let children = element(&root, "Children").ok_or_else(|| ReturnError::NotAReturn {
        path: "/Message/Children".into(),
        reason: "is missing".into(),
    })?;
    let children = elements(&children)
        .enumerate()
        .map(|(i, node)| {
            let path = format!("/Message/Children/Child[{}]", i + 1);
            let mut reader = Reader::default();
            let child = if node.tag_name().name() == "Child" {
                reader.child(&path, &node)
            } else {
                reader.fault(
                    format!("/Message/Children/{}", node.tag_name().name()),
                    "is not an element the schema knows here",
                );
                None
            };
            match child {
                Some(c) if reader.faults.is_empty() => Ok(c),
                _ => Err(ChildFault {
                    index: i + 1,
                    faults: reader.faults,
                }),
            }
        })
        .collect();
    Ok(ReadReturn {
        year,
        lea,
        children,
    })
}

fn elements<'a, 'i>(node: &Node<'a, 'i>) -> impl Iterator<Item = Node<'a, 'i>> {
    node.children().filter(Node::is_element)
}

fn element<'a, 'i>(node: &Node<'a, 'i>, name: &str) -> Option<Node<'a, 'i>> {
    elements(node).find(|n| n.tag_name().name() == name)
}

/// Reads one child, collecting its faults.
#[derive(Default)]
struct Reader {
    faults: Vec<Fault>,
}

impl Reader {
    fn fault(&mut self, path: impl Into<String>, reason: impl Into<String>) {
        self.faults.push(Fault {
            path: path.into(),
            reason: reason.into(),
        });
    }

    /// Faults every element under `node` that is not among `known`.
    fn only(&mut self, path: &str, node: &Node, known: &[&str]) {
        for n in elements(node) {
            let name = n.tag_name().name();
            if !known.contains(&name) {
                self.fault(
                    format!("{path}/{name}"),
                    "is not an element the schema knows here",
                );
            }
        }
    }

    /// The one element `name` under `node`: faulted when it appears more than once, or when
    /// it is required and missing.
    fn one<'a, 'i>(
        &mut self,
        path: &str,
        node: &Node<'a, 'i>,
        name: &str,
        required: bool,
    ) -> Option<Node<'a, 'i>> {
        let mut found = elements(node).filter(|n| n.tag_name().name() == name);
        let first = found.next();
        let more = found.count();
        if more > 0 {
            self.fault(
                format!("{path}/{name}"),
                format!("appears {} times; the schema allows it once", more + 1),
            );
        }
        if first.is_none() && required {
            self.fault(format!("{path}/{name}"), "is missing");
        }
        first
    }

    fn text<'a>(&mut self, path: &str, node: &Node<'a, '_>) -> Option<&'a str> {
        match node.text().map(str::trim) {
            Some(t) if !t.is_empty() => Some(t),
            _ => {
                self.fault(path, "is empty");
                None
            }
        }
    }

    fn date_of(&mut self, path: &str, node: &Node) -> Option<NaiveDate> {
        let text = self.text(path, node)?;
        let parsed = NaiveDate::parse_from_str(text, "%Y-%m-%d").ok();
        if parsed.is_none() {
            self.fault(path, "is not a date (YYYY-MM-DD)");
        }
        parsed
    }

    /// The date in element `name` under `node`.
    fn date(&mut self, path: &str, node: &Node, name: &str, required: bool) -> Option<NaiveDate> {
        let at = format!("{path}/{name}");
        self.one(path, node, name, required)
            .and_then(|n| self.date_of(&at, &n))
    }

    fn number(&mut self, path: &str, node: &Node) -> Option<u32> {
        let text = self.text(path, node)?;
        let parsed = text.parse().ok();
        if parsed.is_none() {
            self.fault(path, "is not a whole number");
        }
        parsed
    }

    fn code<T>(
        &mut self,
        path: &str,
        node: &Node,
        what: &str,
        parse: impl Fn(&str) -> Option<T>,
    ) -> Option<T> {
        let text = self.text(path, node)?;
        let parsed = parse(text);
        if parsed.is_none() {
            self.fault(path, format!("is not a census code for {what}"));
        }
        parsed
    }

    /// The code in element `name` under `node`.
    fn coded<T>(
        &mut self,
        path: &str,
        node: &Node,
        name: &str,
        required: bool,
        parse: impl Fn(&str) -> Option<T>,
    ) -> Option<T> {
        let at = format!("{path}/{name}");
        self.one(path, node, name, required)
            .and_then(|n| self.code(&at, &n, name, parse))
    }

    fn yes_no(&mut self, path: &str, node: &Node, name: &str) -> Option<bool> {
        self.coded(path, node, name, true, |t| match t {
            "true" | "TRUE" | "1" => Some(true),
            "false" | "FALSE" | "0" => Some(false),
            _ => None,
        })
    }

    /// Every element `name` under `node`, each with its path.
    fn each<'a, 'i>(
        &self,
        path: &str,
        node: &Node<'a, 'i>,
        name: &str,
    ) -> Vec<(String, Node<'a, 'i>)> {
        elements(node)
            .filter(|n| n.tag_name().name() == name)
            .enumerate()
            .map(|(i, n)| (format!("{path}/{name}[{}]", i + 1), n))
            .collect()
    }

    fn child(&mut self, path: &str, node: &Node) -> Option<Child> {
        self.only(
            path,
            node,
            &["ChildIdentifiers", "ChildCharacteristics", "CINdetails"],
        );
        let ids_path = format!("{path}/ChildIdentifiers");
        let ids = self.one(path, node, "ChildIdentifiers", true);
        let chars_path = format!("{path}/ChildCharacteristics");
        let chars = self.one(path, node, "ChildCharacteristics", true);
        let episodes: Vec<Option<Episode>> = self
            .each(path, node, "CINdetails")
            .into_iter()
            .map(|(at, n)| self.episode(&at, &n))
            .collect();
        if episodes.is_empty() {
            self.fault(format!("{path}/CINdetails"), "is missing");
        }
        let ids = ids?;
        self.only(
            &ids_path,
            &ids,
            &[
                "LAchildID",
                "UPN",
                "FormerUPN",
                "UPNunknown",
                "PersonBirthDate",
                "ExpectedPersonBirthDate",
                "GenderCurrent",
                "PersonDeathDate",
            ],
        );
        let id_path = format!("{ids_path}/LAchildID");
        let la_child_id = self
            .one(&ids_path, &ids, "LAchildID", true)
            .and_then(|n| self.text(&id_path, &n))
            .and_then(|id| match safeguard_core::text::check_line(&id_path, id) {
                Ok(()) if id.chars().count() <= safeguard_core::MAX_LINE_CHARS => {
                    Some(id.to_owned())
                }
                Ok(()) => {
                    self.fault(
                        &id_path,
                        format!(
                            "is longer than {} characters",
                            safeguard_core::MAX_LINE_CHARS
                        ),
                    );
                    None
                }
                Err(e) => {
                    self.fault(&id_path, e.reason);
                    None
                }
            });
        let upn = self.coded(&ids_path, &ids, "UPN", false, |t| {
            safeguard_core::is_upn(t).then(|| t.to_owned())
        });
        let birth_date = self.date(&ids_path, &ids, "PersonBirthDate", false);
        let expected_birth_date = self.date(&ids_path, &ids, "ExpectedPersonBirthDate", false);
        let gender = self.coded(&ids_path, &ids, "GenderCurrent", true, Gender::parse);
        let death_date = self.date(&ids_path, &ids, "PersonDeathDate", false);
        let chars = chars?;
        self.only(&chars_path, &chars, &["Ethnicity", "Disabilities"]);
        let ethnicity = self.coded(&chars_path, &chars, "Ethnicity", true, from_code);
        let mut disabilities = Vec::new();
        if let Some(list) = self.one(&chars_path, &chars, "Disabilities", false) {
            let list_path = format!("{chars_path}/Disabilities");
            self.only(&list_path, &list, &["Disability"]);
            for (at, n) in self.each(&list_path, &list, "Disability") {
                disabilities.extend(self.code(&at, &n, "Disability", from_code::<Disability>));
            }
        }
        Some(Child {
            la_child_id: la_child_id?,
            upn,
            birth_date,
            expected_birth_date,
            gender: gender?,
            death_date,
            ethnicity: ethnicity?,
            disabilities,
            episodes: episodes.into_iter().collect::<Option<Vec<_>>>()?,
        })
    }

    fn episode(&mut self, path: &str, node: &Node) -> Option<Episode> {
        self.only(
            path,
            node,
            &[
                "CINreferralDate",
                "ReferralSource",
                "PrimaryNeedCode",
                "CINclosureDate",
                "ReasonForClosure",
                "DateOfInitialCPC",
                "Assessments",
                "CINPlanDates",
                "Section47",
                "ReferralNFA",
                "ChildProtectionPlans",
            ],
        );
        let referral_date = self.date(path, node, "CINreferralDate", true);
        let referral_source = self.coded(path, node, "ReferralSource", true, from_code);
        let primary_need = self.coded(path, node, "PrimaryNeedCode", false, from_code);
        let closure_date = self.date(path, node, "CINclosureDate", false);
        let closure_reason = self.coded(path, node, "ReasonForClosure", false, from_code);
        if closure_date.is_some() != closure_reason.is_some()
            && self.faults.iter().all(|f| !f.path.starts_with(path))
        {
            let (missing, present) = if closure_date.is_some() {
                ("ReasonForClosure", "a closure date")
            } else {
                ("CINclosureDate", "a reason for closure")
            };
            self.fault(
                format!("{path}/{missing}"),
                format!("is missing beside {present}"),
            );
        }
        let initial_cpc = self.date(path, node, "DateOfInitialCPC", false);
        let assessments = self
            .each(path, node, "Assessments")
            .into_iter()
            .map(|(at, n)| self.assessment(&at, &n))
            .collect::<Vec<_>>();
        let cin_plans = self
            .each(path, node, "CINPlanDates")
            .into_iter()
            .map(|(at, n)| {
                self.only(&at, &n, &["CINPlanStartDate", "CINPlanEndDate"]);
                let start = self.date(&at, &n, "CINPlanStartDate", true);
                let end = self.date(&at, &n, "CINPlanEndDate", false);
                Some(PlanDates { start: start?, end })
            })
            .collect::<Vec<_>>();
        let section47s = self
            .each(path, node, "Section47")
            .into_iter()
            .map(|(at, n)| {
                self.only(
                    &at,
                    &n,
                    &[
                        "S47ActualStartDate",
                        "InitialCPCtarget",
                        "DateOfInitialCPC",
                        "ICPCnotRequired",
                    ],
                );
                let start = self.date(&at, &n, "S47ActualStartDate", true);
                let icpc_target = self.date(&at, &n, "InitialCPCtarget", false);
                let icpc = self.date(&at, &n, "DateOfInitialCPC", false);
                let not_required = self.yes_no(&at, &n, "ICPCnotRequired");
                Some(Section47Dates {
                    start: start?,
                    icpc_target,
                    icpc,
                    icpc_not_required: not_required?,
                })
            })
            .collect::<Vec<_>>();
        let referral_nfa = self.yes_no(path, node, "ReferralNFA");
        let protection_plans = self
            .each(path, node, "ChildProtectionPlans")
            .into_iter()
            .map(|(at, n)| self.protection_plan(&at, &n))
            .collect::<Vec<_>>();
        Some(Episode {
            referral_date: referral_date?,
            referral_source: referral_source?,
            primary_need,
            closure: closure_date.zip(closure_reason),
            initial_cpc,
            assessments: assessments.into_iter().collect::<Option<_>>()?,
            cin_plans: cin_plans.into_iter().collect::<Option<_>>()?,
            section47s: section47s.into_iter().collect::<Option<_>>()?,
            referral_nfa: referral_nfa?,
            protection_plans: protection_plans.into_iter().collect::<Option<_>>()?,
        })
    }

    fn assessment(&mut self, path: &str, node: &Node) -> Option<AssessmentDates> {
        self.only(
            path,
            node,
            &[
                "AssessmentActualStartDate",
                "AssessmentInternalReviewDate",
                "AssessmentAuthorisationDate",
                "FactorsIdentifiedAtAssessment",
            ],
        );
        let start = self.date(path, node, "AssessmentActualStartDate", true);
        // Read for its form; Safeguard keeps no internal review of an assessment.
        self.date(path, node, "AssessmentInternalReviewDate", false);
        let authorised = self.date(path, node, "AssessmentAuthorisationDate", false);
        let mut factors = Vec::new();
        if let Some(list) = self.one(path, node, "FactorsIdentifiedAtAssessment", false) {
            let list_path = format!("{path}/FactorsIdentifiedAtAssessment");
            self.only(&list_path, &list, &["AssessmentFactors"]);
            for (at, n) in self.each(&list_path, &list, "AssessmentFactors") {
                factors.extend(self.code(&at, &n, "AssessmentFactors", |t| {
                    safeguard_core::is_factor_code(t).then(|| t.to_owned())
                }));
            }
        }
        Some(AssessmentDates {
            start: start?,
            authorised,
            factors,
        })
    }

    fn protection_plan(&mut self, path: &str, node: &Node) -> Option<ProtectionPlan> {
        self.only(
            path,
            node,
            &[
                "CPPstartDate",
                "CPPendDate",
                "InitialCategoryOfAbuse",
                "LatestCategoryOfAbuse",
                "NumberOfPreviousCPP",
                "Reviews",
            ],
        );
        let start = self.date(path, node, "CPPstartDate", true);
        let end = self.date(path, node, "CPPendDate", false);
        let initial = self.coded(path, node, "InitialCategoryOfAbuse", true, parse_category);
        let latest = self.coded(path, node, "LatestCategoryOfAbuse", true, parse_category);
        let previous = self
            .one(path, node, "NumberOfPreviousCPP", true)
            .and_then(|n| self.number(&format!("{path}/NumberOfPreviousCPP"), &n));
        let mut reviews = Vec::new();
        if let Some(list) = self.one(path, node, "Reviews", false) {
            let list_path = format!("{path}/Reviews");
            self.only(&list_path, &list, &["CPPreviewDate"]);
            for (at, n) in self.each(&list_path, &list, "CPPreviewDate") {
                reviews.extend(self.date_of(&at, &n));
            }
        }
        Some(ProtectionPlan {
            start: start?,
            end,
            initial_category: initial?,
            latest_category: latest?,
            previous_plans: previous?,
            reviews,
        })
    }
}
