//! The all-or-nothing import of one file against a real database: each kind good and bad,
//! what Excel writes (BOM, semicolons, CRLF, quotes, UTF-16), and a bad row deep in a big file.

mod common;

use common::{at, phone};
use jiff::Timestamp;
use shiftsms::drop::csv::{Delimiter, write_row};
use shiftsms::drop::import::{ImportOptions, Mode, Outcome, Summary, import_bytes};
use shiftsms::drop::rows::Kind;
use shiftsms::store::Store;
use shiftsms::store::campaigns::CampaignStatus;
use shiftsms::store::shifts::{Shift, ShiftFilter, ShiftStatus};

fn t0() -> Timestamp {
    at("2024-05-01T09:00:00Z")
}

fn options() -> ImportOptions {
    ImportOptions {
        default_country: "GB".parse().unwrap(),
    }
}

fn import(store: &mut Store, text: impl AsRef<[u8]>) -> Outcome {
    import_bytes(store, text.as_ref(), options(), Mode::Apply, t0()).unwrap()
}

fn imported(store: &mut Store, text: impl AsRef<[u8]>) -> Summary {
    match import(store, text) {
        Outcome::Imported { summary, timing } => {
            assert!(timing.write_lock <= timing.total, "{timing:?}");
            assert_eq!(timing.attempts, 1);
            summary
        }
        other => panic!("not imported: {other:#?}"),
    }
}

/// The problems, as the errors file would list them.
fn rejected(store: &mut Store, text: impl AsRef<[u8]>) -> Vec<String> {
    match import(store, text) {
        Outcome::Rejected { problems, .. } => problems.iter().map(|p| p.to_string()).collect(),
        other => panic!("not rejected: {other:#?}"),
    }
}

fn summary(kind: Kind, added: usize, updated: usize, unchanged: usize) -> Summary {
    Summary {
        kind,
        added,
        updated,
        unchanged,
    }
}

fn shifts(store: &mut Store) -> Vec<Shift> {
    store
        .read()
        .unwrap()
        .shifts()
        .list(ShiftFilter::All)
        .unwrap()
}

fn shift_rows(store: &mut Store) -> Vec<(String, String, bool)> {
    shifts(store)
        .into_iter()
        .map(|s| (s.id, s.info, s.status.is_available()))
        .collect()
}

fn book(store: &mut Store, code: &str, who: &str) {
    let tx = store.transaction().unwrap();
    tx.shifts().take(code, &phone(who), t0()).unwrap();
    tx.commit().unwrap();
}

#[test]
fn shifts_are_added_updated_and_left_alone() {
    let mut store = Store::open_in_memory().unwrap();
    let first = "shift_id,shift_info\nXYZ123,Mon 06:00-14:00 Line 3\nxyz222,Tue 14:00-22:00\n";
    assert_eq!(imported(&mut store, first), summary(Kind::Shifts, 2, 0, 0));
    assert_eq!(
        shift_rows(&mut store),
        vec![
            ("XYZ123".into(), "Mon 06:00-14:00 Line 3".into(), true),
            ("XYZ222".into(), "Tue 14:00-22:00".into(), true),
        ]
    );
    // The same file again changes nothing.
    assert_eq!(imported(&mut store, first), summary(Kind::Shifts, 0, 0, 2));
    // New info for one, a new shift, the other unchanged (codes in any case).
    let second = "SHIFT_ID,SHIFT_INFO,shift_status\nxyz123,Mon 07:00-15:00 Line 3,\nXYZ222,Tue 14:00-22:00,available\nA7,Wed,\n";
    assert_eq!(imported(&mut store, second), summary(Kind::Shifts, 1, 1, 1));
    assert_eq!(
        shift_rows(&mut store),
        vec![
            ("XYZ123".into(), "Mon 07:00-15:00 Line 3".into(), true),
            ("XYZ222".into(), "Tue 14:00-22:00".into(), true),
            ("A7".into(), "Wed".into(), true),
        ]
    );
}

#[test]
fn a_booked_shift_is_never_changed_or_unbooked_by_an_import() {
    let mut store = Store::open_in_memory().unwrap();
    imported(
        &mut store,
        "shift_id,shift_info\nXYZ123,Mon 06:00-14:00\nXYZ222,Tue\n",
    );
    book(&mut store, "XYZ123", "+447400123456");

    // Same info, status empty or "taken": unchanged, still booked.
    assert_eq!(
        imported(
            &mut store,
            "shift_id,shift_info,shift_status\nXYZ123,Mon 06:00-14:00,taken\nXYZ222,Tue,\n"
        ),
        summary(Kind::Shifts, 0, 0, 2)
    );

    // New info for the booked shift, alongside a good change: the whole file is refused.
    let found = rejected(
        &mut store,
        "shift_id,shift_info\nXYZ123,Mon 08:00-16:00\nXYZ222,Tue late\n",
    );
    assert_eq!(found.len(), 1, "{found:#?}");
    assert!(
        found[0].starts_with(
            "line 2, column B (shift_info): shift XYZ123 is booked by +447400123456, who was told \"Mon 06:00-14:00\""
        ),
        "{}",
        found[0]
    );
    // Asking to make it available again.
    let found = rejected(
        &mut store,
        "shift_id,shift_info,shift_status\nXYZ123,Mon 06:00-14:00,available\n",
    );
    assert!(
        found[0].starts_with("line 2, column C (shift_status): shift XYZ123 is booked by +447400123456, and an import never un-books a shift"),
        "{}",
        found[0]
    );
    assert!(
        found[0].contains("shiftsms shifts release XYZ123"),
        "{}",
        found[0]
    );
    // Asking to book a shift, or to add one as taken.
    let found = rejected(
        &mut store,
        "shift_id,shift_info,shift_status\nXYZ222,Tue,taken\nNEW1,Fri,taken\n",
    );
    assert_eq!(found.len(), 2, "{found:#?}");
    assert!(found[0].contains("does not book shifts"), "{}", found[0]);
    assert!(found[1].contains("added as available"), "{}", found[1]);

    assert_eq!(
        shift_rows(&mut store),
        vec![
            ("XYZ123".into(), "Mon 06:00-14:00".into(), false),
            ("XYZ222".into(), "Tue".into(), true),
        ]
    );
    assert!(matches!(
        &shifts(&mut store)[0].status,
        ShiftStatus::Taken { by: Some(by), .. } if by.as_str() == "+447400123456"
    ));
}

#[test]
fn employees_are_normalised_and_their_stop_is_respected() {
    let mut store = Store::open_in_memory().unwrap();
    let file = "phone;name;subscribed\r\n07400 123456;Ann;\r\n+44 7400 123457;Bob;no\r\n0044 7400 123458;;1\r\n";
    assert_eq!(
        imported(&mut store, file),
        summary(Kind::Employees, 3, 0, 0)
    );
    let listed: Vec<(String, Option<String>, bool)> = store
        .read()
        .unwrap()
        .employees()
        .list()
        .unwrap()
        .into_iter()
        .map(|e| (e.phone.to_string(), e.name, e.subscribed))
        .collect();
    assert_eq!(
        listed,
        vec![
            ("+447400123456".into(), Some("Ann".into()), true),
            ("+447400123457".into(), Some("Bob".into()), false),
            ("+447400123458".into(), None, true),
        ]
    );

    // Ann texts STOP. A file saying she is subscribed is refused for her row; an empty cell
    // keeps her choice.
    let tx = store.transaction().unwrap();
    tx.employees()
        .set_subscribed(&phone("+447400123456"), false, t0())
        .unwrap();
    tx.commit().unwrap();
    let found = rejected(&mut store, "phone,name,subscribed\n07400123456,Ann,yes\n");
    assert_eq!(found.len(), 1);
    assert!(
        found[0]
            .starts_with("line 2, column C (subscribed): +447400123456 texted STOP on 2024-05-01"),
        "{}",
        found[0]
    );
    // Renaming, subscribing Bob (set to "no" by a manager, not by his STOP), keeping Ann.
    assert_eq!(
        imported(
            &mut store,
            "phone,name,subscribed\n07400123456,Ann Smith,\n07400123457,Bob,yes\n07400123458,,\n"
        ),
        summary(Kind::Employees, 0, 2, 1)
    );
    let tx = store.read().unwrap();
    let ann = tx
        .employees()
        .get(&phone("+447400123456"))
        .unwrap()
        .unwrap();
    assert_eq!(ann.name.as_deref(), Some("Ann Smith"));
    assert!(!ann.subscribed);
    assert!(
        tx.employees()
            .get(&phone("+447400123457"))
            .unwrap()
            .unwrap()
            .subscribed
    );
}

#[test]
fn an_invalid_number_names_its_line_and_nothing_is_added() {
    let mut store = Store::open_in_memory().unwrap();
    let found = rejected(
        &mut store,
        "phone,name\n07400 123456,Ann\n12345,Bob\n07400 123457,Cy\n",
    );
    assert_eq!(found.len(), 1, "{found:#?}");
    assert!(
        found[0].starts_with("line 3, column A (phone): \"12345\" is not a valid GB phone number"),
        "{}",
        found[0]
    );
    assert!(store.read().unwrap().employees().list().unwrap().is_empty());
}

#[test]
fn a_campaign_dropped_twice_is_one_campaign() {
    let mut store = Store::open_in_memory().unwrap();
    let file =
        "campaign_id,shifts\n2024-05-01-am,\"XYZ123 Mon 06:00-14:00, XYZ222 Tue 14:00-22:00\"\n";
    assert_eq!(
        imported(&mut store, file),
        summary(Kind::Campaigns, 1, 0, 0)
    );
    assert_eq!(
        imported(&mut store, file),
        summary(Kind::Campaigns, 0, 0, 1)
    );
    let campaigns = store.read().unwrap().campaigns().list().unwrap();
    assert_eq!(campaigns.len(), 1);
    assert_eq!(
        campaigns[0].shifts,
        "XYZ123 Mon 06:00-14:00, XYZ222 Tue 14:00-22:00"
    );
    assert_eq!(campaigns[0].status, CampaignStatus::New);
    assert_eq!(campaigns[0].created_at, t0());

    // The same id with other shifts is a mistake, not a new broadcast.
    let found = rejected(
        &mut store,
        "campaign_id,shifts\n2024-05-01-am,XYZ999 Sun\nnext,XYZ123\n",
    );
    assert_eq!(found.len(), 1, "{found:#?}");
    assert!(
        found[0].starts_with("line 2, column A (campaign_id): campaign \"2024-05-01-am\" already exists (waiting to be sent"),
        "{}",
        found[0]
    );
    assert_eq!(store.read().unwrap().campaigns().list().unwrap().len(), 1);
}

#[test]
fn what_excel_writes() {
    let mut store = Store::open_in_memory().unwrap();
    // CSV UTF-8 from Excel: BOM, CRLF, quotes around values with commas and quotes.
    let bom =
        "\u{FEFF}shift_id,shift_info\r\nXYZ123,\"Mon 06:00-14:00, Line 3 \"\"North\"\"\"\r\n\r\n";
    assert_eq!(imported(&mut store, bom), summary(Kind::Shifts, 1, 0, 0));
    // European Excel: semicolons, commas inside values unquoted, trailing spaces, sep= line.
    let semicolons = "sep=;\r\nShift_ID;Shift_Info \r\nA7  ;Tue 14:00-22:00, Line 1  \r\n;;\r\n";
    assert_eq!(
        imported(&mut store, semicolons),
        summary(Kind::Shifts, 1, 0, 0)
    );
    // Unicode Text: UTF-16LE with BOM and tabs.
    let mut utf16 = vec![0xFF, 0xFE];
    for unit in "shift_id\tshift_info\r\nB8\tMer 06:00 équipe B\r\n".encode_utf16() {
        utf16.extend(unit.to_le_bytes());
    }
    assert_eq!(imported(&mut store, utf16), summary(Kind::Shifts, 1, 0, 0));
    assert_eq!(
        shift_rows(&mut store),
        vec![
            (
                "XYZ123".into(),
                "Mon 06:00-14:00, Line 3 \"North\"".into(),
                true
            ),
            ("A7".into(), "Tue 14:00-22:00, Line 1".into(), true),
            ("B8".into(), "Mer 06:00 équipe B".into(), true),
        ]
    );
    // "CSV (Comma delimited)" on a western European PC: Windows-1252, refused with how to fix.
    let found = rejected(&mut store, b"phone,name\r\n07400123456,Jos\xE9\r\n");
    assert_eq!(found.len(), 1);
    assert!(found[0].contains("line 2"), "{}", found[0]);
    assert!(found[0].contains("CSV UTF-8"), "{}", found[0]);
}

#[test]
fn a_bad_row_at_line_5000_of_10000_applies_nothing() {
    let mut store = Store::open_in_memory().unwrap();
    let mut file = write_row(&["shift_id", "shift_info"], Delimiter::Comma);
    for n in 2..=10_000 {
        let code = if n == 5_000 {
            "BAD-5000".to_string()
        } else {
            format!("S{n}")
        };
        file.push_str(&write_row(
            &[code, format!("Day {n}, line {}", n % 7)],
            Delimiter::Comma,
        ));
    }
    let found = rejected(&mut store, &file);
    assert_eq!(found.len(), 1, "{found:#?}");
    assert!(
        found[0]
            .starts_with("line 5000, column A (shift_id): \"BAD-5000\" is not a valid shift code"),
        "{}",
        found[0]
    );
    assert!(shifts(&mut store).is_empty());

    // Fixed, it imports whole.
    let fixed = file.replace("BAD-5000", "S5000");
    assert_eq!(
        imported(&mut store, &fixed),
        summary(Kind::Shifts, 9_999, 0, 0)
    );
    assert_eq!(shifts(&mut store).len(), 9_999);
}

#[test]
fn a_dry_run_applies_nothing() {
    let mut store = Store::open_in_memory().unwrap();
    let outcome = import_bytes(
        &mut store,
        b"shift_id,shift_info\nXYZ123,Mon\n",
        options(),
        Mode::DryRun,
        t0(),
    )
    .unwrap();
    assert_eq!(
        outcome,
        Outcome::WouldImport {
            summary: summary(Kind::Shifts, 1, 0, 0)
        }
    );
    assert!(shifts(&mut store).is_empty());
}

#[test]
fn empty_and_header_only_files_are_rejected_plainly() {
    let mut store = Store::open_in_memory().unwrap();
    assert_eq!(rejected(&mut store, b""), vec!["the file is empty"]);
    assert_eq!(
        rejected(&mut store, "campaign_id,shifts\r\n"),
        vec![
            "the file has a header row (campaigns) but no rows under it, so there is nothing to import"
        ]
    );
}
