//! Who may do what. Default deny: a user reads a child's record when their agency has an
//! established involvement with the child (one of its workers is allocated; or it records about
//! the child and either held the child first or had its involvement confirmed by the lead
//! professional or a safeguarding lead), when their role grants wider access (safeguarding
//! lead / MASH), or when they break glass with a written reason, which is audited and reported.
//! Recording about a child held by others only *asks* to be involved: until that is confirmed
//! the agency sees its own entries and the child's status, nothing more. Writes are only ever
//! of the user's own agency's entries. Pure: the store gathers the facts, this decides.

use serde::{Deserialize, Serialize};

use crate::AgencyId;

/// What a user does in their agency.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Role {
    /// A social worker, officer, clinician or other practitioner.
    Practitioner,
    /// Manages practitioners; receives escalations.
    TeamManager,
    /// Safeguarding lead or MASH worker: sees any child's record.
    SafeguardingLead,
    /// A local-authority lawyer.
    Lawyer,
    /// A member of a review panel.
    ReviewPanel,
    /// Checks who saw what: reads access logs, not records.
    Auditor,
    /// Manages users: reads no records.
    Administrator,
}

impl Role {
    /// Every role.
    pub const ALL: [Role; 7] = [
        Role::Practitioner,
        Role::TeamManager,
        Role::SafeguardingLead,
        Role::Lawyer,
        Role::ReviewPanel,
        Role::Auditor,
        Role::Administrator,
    ];

    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Practitioner => "practitioner",
            Role::TeamManager => "team_manager",
            Role::SafeguardingLead => "safeguarding_lead",
            Role::Lawyer => "lawyer",
            Role::ReviewPanel => "review_panel",
            Role::Auditor => "auditor",
            Role::Administrator => "administrator",
        }
    }

    /// The role with this stored name.
    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.as_str() == text)
    }

    /// Roles that work cases: they record entries and read the records of children their
    /// agency is involved with.
    pub fn works_cases(self) -> bool {
        matches!(
            self,
            Role::Practitioner | Role::TeamManager | Role::SafeguardingLead | Role::Lawyer
        )
    }

    /// Roles that may break glass to read a record they otherwise could not.
    pub fn may_break_glass(self) -> bool {
        self.works_cases() || self == Role::ReviewPanel
    }

    /// Roles that search for persons: those who may read records.
    pub fn searches(self) -> bool {
        self.may_break_glass()
    }

    /// Roles that decide whether two agencies' records are one person: those who see any
    /// child's record (a safeguarding lead, a MASH worker), since a proposed pair may come
    /// from any agency and a decision changes whose chronology an entry is in.
    pub fn resolves_identity(self) -> bool {
        self == Role::SafeguardingLead
    }
}

/// Who is asking.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Principal {
    /// A signed-in person.
    User {
        /// Their user name.
        id: String,
        /// Their agency.
        agency: AgencyId,
        /// Their roles.
        roles: Vec<Role>,
    },
    /// An agency's system, holding one of the agency's API tokens.
    AgencySystem {
        /// The token's name.
        token: String,
        /// The agency.
        agency: AgencyId,
    },
}

impl Principal {
    /// The principal's agency.
    pub fn agency(&self) -> &AgencyId {
        match self {
            Principal::User { agency, .. } | Principal::AgencySystem { agency, .. } => agency,
        }
    }

    fn has(&self, f: impl Fn(Role) -> bool) -> bool {
        matches!(self, Principal::User { roles, .. } if roles.iter().copied().any(f))
    }
}

/// What ties agencies and workers to a child now.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Involvement {
    /// Agencies whose involvement is established: they recorded about the child within the
    /// involvement period (counted by when Safeguard received the entries) and either held the
    /// child first or had their involvement confirmed.
    pub established_agencies: Vec<AgencyId>,
    /// Agencies that recorded about the child within the period, about a child others held,
    /// and wait for the lead professional or a safeguarding lead to confirm them.
    pub pending_agencies: Vec<AgencyId>,
    /// Users allocated to the child.
    pub allocated_users: Vec<String>,
    /// Agencies of the allocated users.
    pub allocated_agencies: Vec<AgencyId>,
    /// The child's lead professional, if one is allocated.
    pub lead_professional: Option<String>,
    /// A practice review of the child's case is open: children's social care recorded the
    /// serious incident's notification, and no review has been published or ruled out since.
    pub under_review: bool,
    /// The review panel's members named when the review was opened (user names): only they
    /// read the record by the review. None named: every review panel member.
    pub review_panel: Vec<String>,
}

/// Why a read is allowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadBasis {
    /// The user's agency is involved with the child.
    AgencyInvolved,
    /// The user is allocated to the child.
    Allocated,
    /// The user's role sees every child's record.
    WideRole,
    /// The user broke glass, with a reason.
    BreakGlass,
    /// The user sits on review panels, and a review of the child's case is open.
    UnderReview,
}

/// The answer to "may this principal read this child's record?".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadDecision {
    /// Yes, on this basis.
    Allowed(ReadBasis),
    /// The caller's agency recorded about the child but its involvement awaits confirmation:
    /// it sees its own entries and the child's status until then (or breaks glass).
    InvolvementUnconfirmed,
    /// Only by breaking glass with a written reason.
    BreakGlassRequired,
    /// No.
    Denied,
}

/// Decides whether `principal` may read a child's record; `broke_glass` says whether they hold
/// a break-glass grant for this child.
pub fn may_read_child(
    principal: &Principal,
    involvement: &Involvement,
    broke_glass: bool,
) -> ReadDecision {
    let agency_involved = involvement
        .established_agencies
        .contains(principal.agency())
        || involvement.allocated_agencies.contains(principal.agency());
    let agency_pending = involvement.pending_agencies.contains(principal.agency());
    match principal {
        Principal::AgencySystem { .. } if agency_involved => {
            ReadDecision::Allowed(ReadBasis::AgencyInvolved)
        }
        Principal::AgencySystem { .. } if agency_pending => ReadDecision::InvolvementUnconfirmed,
        Principal::AgencySystem { .. } => ReadDecision::Denied,
        Principal::User { id, .. } => {
            if principal.has(|r| r == Role::SafeguardingLead) {
                ReadDecision::Allowed(ReadBasis::WideRole)
            } else if principal.has(Role::works_cases) && involvement.allocated_users.contains(id) {
                ReadDecision::Allowed(ReadBasis::Allocated)
            } else if principal.has(Role::works_cases) && agency_involved {
                ReadDecision::Allowed(ReadBasis::AgencyInvolved)
            } else if principal.has(|r| r == Role::ReviewPanel)
                && involvement.under_review
                && (involvement.review_panel.is_empty() || involvement.review_panel.contains(id))
            {
                ReadDecision::Allowed(ReadBasis::UnderReview)
            } else if principal.has(Role::may_break_glass) && broke_glass {
                ReadDecision::Allowed(ReadBasis::BreakGlass)
            } else if principal.has(Role::works_cases) && agency_pending {
                ReadDecision::InvolvementUnconfirmed
            } else if principal.has(Role::may_break_glass) {
                ReadDecision::BreakGlassRequired
            } else {
                ReadDecision::Denied
            }
        }
    }
}

/// Whether `principal` may record an entry for `agency`: only their own agency's, and only
/// in a role that works cases (or as the agency's system).
pub fn may_write_entry(principal: &Principal, agency: &AgencyId) -> bool {
    principal.agency() == agency
        && match principal {
            Principal::AgencySystem { .. } => true,
            Principal::User { .. } => principal.has(Role::works_cases),
        }
}

/// Whether `principal` may record an entry of `kind`. A serious incident opens a child's
/// record to the review panel, so a person records one only as a safeguarding lead (the
/// practice review's page); an agency's system records what its local authority decided.
pub fn may_record_kind(principal: &Principal, kind: crate::EntryKind) -> bool {
    kind != crate::EntryKind::SeriousIncident
        || match principal {
            Principal::AgencySystem { .. } => true,
            Principal::User { .. } => principal.has(|r| r == Role::SafeguardingLead),
        }
}

/// Whether an entry may be sent under this `source.system` through the API or a form: not
/// under the census return's, whose history is not asked whether an assessment saw the child
/// (only `safeguard import --cin` writes it).
pub fn may_send_as_system(system: &str) -> bool {
    system != crate::process::CENSUS_RETURN_SYSTEM
}

/// Whether `principal` may confirm or decline an agency's involvement with a child: the
/// child's lead professional, or a safeguarding lead.
pub fn may_decide_involvement(principal: &Principal, involvement: &Involvement) -> bool {
    match principal {
        Principal::AgencySystem { .. } => false,
        Principal::User { id, .. } => {
            principal.has(|r| r == Role::SafeguardingLead)
                || involvement.lead_professional.as_deref() == Some(id.as_str())
        }
    }
}

/// Whether `principal` may see who looked at a child's record: auditors, safeguarding leads,
/// and the child's lead professional.
pub fn may_read_access_log(principal: &Principal, involvement: &Involvement) -> bool {
    match principal {
        Principal::AgencySystem { .. } => false,
        Principal::User { id, .. } => {
            principal.has(|r| matches!(r, Role::Auditor | Role::SafeguardingLead))
                || involvement.lead_professional.as_deref() == Some(id.as_str())
        }
    }
}

/// Whether `principal`, who may read a child's whole record, may acknowledge a concern on it:
/// a person who works cases (a system cannot say it has seen a concern).
pub fn may_acknowledge_flag(principal: &Principal) -> bool {
    principal.has(Role::works_cases)
}

/// Whether `principal`, who may read a child's whole record, may assign a concern on it to a
/// worker of their agency: a team manager or a safeguarding lead.
pub fn may_assign_flag(principal: &Principal) -> bool {
    principal.has(|r| matches!(r, Role::TeamManager | Role::SafeguardingLead))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn agency(id: &str) -> AgencyId {
        AgencyId::parse(id).unwrap()
    }

    fn user(role: Role, of: &str) -> Principal {
        Principal::User {
            id: format!("{}-{of}", role.as_str()),
            agency: agency(of),
            roles: vec![role],
        }
    }

    fn police_involved() -> Involvement {
        Involvement {
            established_agencies: vec![agency("police")],
            pending_agencies: vec![agency("school")],
            allocated_users: vec!["practitioner-social-care".into()],
            allocated_agencies: vec![agency("social-care")],
            lead_professional: Some("practitioner-social-care".into()),
            under_review: false,
            review_panel: Vec::new(),
        }
    }

    #[test]
    fn casework_roles_read_a_child_their_agency_is_involved_with() {
        for role in [Role::Practitioner, Role::TeamManager, Role::Lawyer] {
            assert_eq!(
                may_read_child(&user(role, "police"), &police_involved(), false),
                ReadDecision::Allowed(ReadBasis::AgencyInvolved),
                "{role:?}"
            );
        }
        assert_eq!(
            may_read_child(
                &user(Role::Practitioner, "social-care"),
                &police_involved(),
                false
            ),
            ReadDecision::Allowed(ReadBasis::Allocated)
        );
    }

    #[test]
    fn without_involvement_a_caseworker_must_break_glass() {
        let outsider = user(Role::Practitioner, "hospital");
        assert_eq!(
            may_read_child(&outsider, &police_involved(), false),
            ReadDecision::BreakGlassRequired
        );
        assert_eq!(
            may_read_child(&outsider, &police_involved(), true),
            ReadDecision::Allowed(ReadBasis::BreakGlass)
        );
    }

    #[test]
    fn an_agency_that_recorded_about_a_child_held_by_others_waits_for_confirmation() {
        let school = user(Role::Practitioner, "school");
        let inv = police_involved();
        assert_eq!(
            may_read_child(&school, &inv, false),
            ReadDecision::InvolvementUnconfirmed
        );
        let system = Principal::AgencySystem {
            token: "t".into(),
            agency: agency("school"),
        };
        assert_eq!(
            may_read_child(&system, &inv, false),
            ReadDecision::InvolvementUnconfirmed
        );
        // Breaking glass still opens the record, audited, in an emergency.
        assert_eq!(
            may_read_child(&school, &inv, true),
            ReadDecision::Allowed(ReadBasis::BreakGlass)
        );
        // Once confirmed, the agency is involved like any other.
        let confirmed = Involvement {
            established_agencies: vec![agency("police"), agency("school")],
            pending_agencies: vec![],
            ..inv
        };
        assert_eq!(
            may_read_child(&school, &confirmed, false),
            ReadDecision::Allowed(ReadBasis::AgencyInvolved)
        );
    }

    #[test]
    fn only_the_lead_professional_or_a_safeguarding_lead_confirms_involvement() {
        let inv = police_involved();
        assert!(may_decide_involvement(
            &user(Role::Practitioner, "social-care"),
            &inv
        ));
        assert!(may_decide_involvement(
            &user(Role::SafeguardingLead, "hospital"),
            &inv
        ));
        assert!(!may_decide_involvement(
            &user(Role::Practitioner, "police"),
            &inv
        ));
        assert!(!may_decide_involvement(
            &user(Role::TeamManager, "school"),
            &inv
        ));
    }

    #[test]
    fn a_safeguarding_lead_reads_any_child() {
        assert_eq!(
            may_read_child(
                &user(Role::SafeguardingLead, "hospital"),
                &Involvement::default(),
                false
            ),
            ReadDecision::Allowed(ReadBasis::WideRole)
        );
    }

    #[test]
    fn auditors_and_administrators_never_read_records_even_by_breaking_glass() {
        for role in [Role::Auditor, Role::Administrator] {
            let u = user(role, "police");
            assert_eq!(
                may_read_child(&u, &police_involved(), false),
                ReadDecision::Denied
            );
            assert_eq!(
                may_read_child(&u, &police_involved(), true),
                ReadDecision::Denied
            );
        }
    }

    #[test]
    fn a_review_panel_member_reads_a_child_under_review_and_others_only_by_breaking_glass() {
        let u = user(Role::ReviewPanel, "police");
        assert_eq!(
            may_read_child(&u, &police_involved(), false),
            ReadDecision::BreakGlassRequired
        );
        let under_review = Involvement {
            under_review: true,
            ..police_involved()
        };
        assert_eq!(
            may_read_child(&u, &under_review, false),
            ReadDecision::Allowed(ReadBasis::UnderReview)
        );
        // The review opens the record to the panel, not to everyone.
        for role in [Role::Practitioner, Role::Lawyer] {
            assert_eq!(
                may_read_child(&user(role, "hospital"), &under_review, false),
                ReadDecision::BreakGlassRequired,
                "{role:?}"
            );
        }
        assert_eq!(
            may_read_child(&user(Role::Auditor, "police"), &under_review, false),
            ReadDecision::Denied
        );
        // Panel members named when the review was opened: only they.
        let named = Involvement {
            review_panel: vec!["someone else".into()],
            ..under_review.clone()
        };
        assert_eq!(
            may_read_child(&u, &named, false),
            ReadDecision::BreakGlassRequired
        );
        let Principal::User { id, .. } = &u else {
            unreachable!()
        };
        let with_them = Involvement {
            review_panel: vec![id.clone()],
            ..under_review
        };
        assert_eq!(
            may_read_child(&u, &with_them, false),
            ReadDecision::Allowed(ReadBasis::UnderReview)
        );
    }

    #[test]
    fn agency_systems_read_only_children_their_agency_is_involved_with() {
        let system = |of: &str| Principal::AgencySystem {
            token: "t".into(),
            agency: agency(of),
        };
        assert_eq!(
            may_read_child(&system("police"), &police_involved(), false),
            ReadDecision::Allowed(ReadBasis::AgencyInvolved)
        );
        assert_eq!(
            may_read_child(&system("hospital"), &police_involved(), true),
            ReadDecision::Denied
        );
    }

    #[test]
    fn entries_are_written_only_for_ones_own_agency_by_caseworkers_or_systems() {
        let police = agency("police");
        assert!(may_write_entry(
            &user(Role::Practitioner, "police"),
            &police
        ));
        assert!(!may_write_entry(
            &user(Role::Practitioner, "hospital"),
            &police
        ));
        assert!(!may_write_entry(&user(Role::Auditor, "police"), &police));
        assert!(!may_write_entry(
            &user(Role::ReviewPanel, "police"),
            &police
        ));
        assert!(may_write_entry(
            &Principal::AgencySystem {
                token: "t".into(),
                agency: police.clone()
            },
            &police
        ));
    }

    #[test]
    fn the_access_log_is_for_auditors_leads_and_the_lead_professional() {
        let inv = police_involved();
        assert!(may_read_access_log(&user(Role::Auditor, "hospital"), &inv));
        assert!(may_read_access_log(
            &user(Role::SafeguardingLead, "hospital"),
            &inv
        ));
        assert!(
            may_read_access_log(&user(Role::Practitioner, "social-care"), &inv),
            "the lead professional"
        );
        assert!(!may_read_access_log(
            &user(Role::Practitioner, "police"),
            &inv
        ));
    }

    #[test]
    fn caseworkers_acknowledge_concerns_and_managers_and_leads_assign_them() {
        let acknowledges: Vec<Role> = Role::ALL
            .into_iter()
            .filter(|r| may_acknowledge_flag(&user(*r, "hospital")))
            .collect();
        assert_eq!(
            acknowledges,
            [
                Role::Practitioner,
                Role::TeamManager,
                Role::SafeguardingLead,
                Role::Lawyer
            ]
        );
        let assigns: Vec<Role> = Role::ALL
            .into_iter()
            .filter(|r| may_assign_flag(&user(*r, "hospital")))
            .collect();
        assert_eq!(assigns, [Role::TeamManager, Role::SafeguardingLead]);
        let system = Principal::AgencySystem {
            agency: agency("hospital"),
            token: "t".into(),
        };
        assert!(!may_acknowledge_flag(&system) && !may_assign_flag(&system));
    }

    #[test]
    fn every_role_round_trips_through_its_name() {
        for role in Role::ALL {
            assert_eq!(Role::parse(role.as_str()), Some(role));
        }
    }

    #[test]
    fn only_a_safeguarding_lead_or_an_agency_system_records_a_serious_incident() {
        use crate::EntryKind;
        let system = Principal::AgencySystem {
            token: "case-system".into(),
            agency: AgencyId::parse("council").unwrap(),
        };
        assert!(may_record_kind(&system, EntryKind::SeriousIncident));
        for role in Role::ALL {
            let person = user(role, "council");
            assert_eq!(
                may_record_kind(&person, EntryKind::SeriousIncident),
                role == Role::SafeguardingLead,
                "{role:?}"
            );
            assert!(may_record_kind(&person, EntryKind::HomeVisit));
        }
    }
}
