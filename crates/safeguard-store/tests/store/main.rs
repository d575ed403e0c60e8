//! Store tests: every case runs against SQLite and against a real PostgreSQL server started
//! from the system's binaries. Cases live in `cases.rs`; `harness.rs` makes the stores.

mod cases;
mod harness;

macro_rules! on_both_engines {
    ($($case:ident),* $(,)?) => {
        mod sqlite {
            $(#[test] fn $case() { crate::cases::$case(&crate::harness::sqlite()) })*
        }
        mod postgres {
            $(#[test] fn $case() { crate::cases::$case(&crate::harness::postgres()) })*
        }
    };
}

on_both_engines!(
    a_chronology_lists_every_entry_naming_the_person_in_time_order,
    re_sending_an_entry_changes_nothing_and_says_so,
    concurrent_appends_naming_the_same_person_are_all_stored,
    a_batch_with_one_bad_entry_writes_nothing,
    an_unknown_agency_is_named_and_nothing_is_written,
    a_chronology_filters_by_agency_kind_and_date_range,
    pages_cover_the_chronology_exactly_once,
    a_correction_hides_the_entry_it_supersedes,
    superseding_an_unknown_entry_is_refused,
    the_household_at_a_date_comes_from_stored_residences,
    persons_are_found_by_name_date_of_birth_nhs_number_and_postcode,
    search_forgives_typos_nicknames_name_order_typed_dates_and_partial_postcodes,
    a_record_keeps_the_demographics_of_its_latest_entry,
    arriving_records_are_linked_online_and_the_unsafe_ones_wait_for_review,
    a_reviewers_decisions_merge_and_split_persons_and_later_runs_keep_them,
    a_batch_run_links_what_arrived_before_and_keeps_twins_apart,
    a_merge_moves_flags_to_the_survivor_and_audits_those_it_resolves,
    an_adult_recorded_with_the_same_family_is_proposed_as_the_one_a_parent_named,
    data_survives_reopening_the_store,
    every_stored_entry_is_audited,
    audit_verify_names_an_edited_event,
    audit_verify_names_a_deleted_event,
    audit_verify_names_reordered_events,
    audit_verify_names_a_truncated_log,
    the_audit_log_refuses_updates_and_deletes,
    deleting_an_event_and_re_chaining_without_the_key_is_detected,
    reads_are_audited_while_a_long_write_holds_the_writer,
    an_edited_read_is_detected_in_the_chain_of_reads,
    a_checkpoint_survives_a_growing_log_and_catches_a_reset_one,
    sign_in_opens_a_session_that_sign_out_closes,
    failures_never_lock_an_account_and_every_refusal_is_alike,
    weak_passwords_are_refused_by_name,
    an_idle_session_ends_and_a_token_expires_and_rotates,
    a_disabled_user_cannot_sign_in_and_loses_sessions,
    api_tokens_work_until_revoked,
    involvement_comes_from_recent_entries_and_allocations,
    a_confirmation_opens_the_record_and_a_decline_lasts_until_the_agency_records_again,
    an_entry_recorded_in_the_future_or_naming_too_many_people_is_refused,
    breaking_glass_is_granted_for_the_session_and_audited_with_its_reason,
    flags_are_stored_by_difference_and_each_change_is_audited,
    incremental_flags_equal_a_full_re_evaluation_on_random_chronologies,
    a_missed_timescale_is_escalated_to_the_team_managers_of_the_agencies_holding_the_child,
    an_entry_that_cannot_be_evaluated_is_stored_and_its_failure_waits_until_mended,
    a_chronology_read_again_or_by_another_process_is_the_same,
    many_reads_recorded_at_once_chain_in_order,
    the_daily_tick_evaluates_only_the_children_whose_day_has_come,
    two_clocks_started_by_one_entry_and_both_late_are_two_flags,
    an_identity_decision_re_evaluates_the_children_it_touches_and_alerts_their_lead,
    a_birth_turns_the_unborn_childs_record_into_the_babys,
    a_record_its_agency_updates_is_matched_again,
    an_unborn_childs_expected_date_is_compared_with_the_babys_birth_year,
    an_entry_about_one_child_re_evaluates_their_siblings,
    an_adult_services_record_reaches_the_children_around_the_adult,
    a_caseload_lists_each_workers_children_and_the_held_children_nobody_has,
    a_person_chosen_on_a_form_is_the_person_the_entry_names,
    acting_on_a_concern_is_kept_audited_and_refused_when_it_is_not_the_records,
    a_practice_review_opens_with_the_local_authoritys_notification_and_closes_when_ruled_out,
    an_entry_sent_again_with_other_content_is_found_before_anything_is_written,
    a_large_append_in_one_transaction_refreshes_the_planners_statistics_and_stores_all,
);
