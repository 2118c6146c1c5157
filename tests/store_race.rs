//! Bookings are atomic: two employees racing for the same shifts, each attempt one transaction
//! (take the shift, queue the reply), on two connections in two threads.

mod common;

use std::collections::HashMap;
use std::sync::{Arc, Barrier};
use std::thread;

use common::{at, phone};
use shiftsms::store::Store;
use shiftsms::store::outbox::{Kind, OutboxFilter, Outgoing};
use shiftsms::store::shifts::{ShiftFilter, ShiftStatus, Take};

const SHIFTS: usize = 50;
const ATTEMPTS_PER_THREAD: usize = 500;

#[test]
fn two_employees_racing_for_fifty_shifts_each_shift_is_booked_exactly_once() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("shiftsms.db");
    let now = at("2024-05-01T09:00:00Z");
    {
        let mut store = Store::open(&db).unwrap();
        let tx = store.transaction().unwrap();
        for n in 0..SHIFTS {
            tx.shifts().add(&format!("S{n:03}"), "Mon", now).unwrap();
        }
        tx.commit().unwrap();
    }

    let employees = [phone("+447400100001"), phone("+447400100002")];
    let start = Arc::new(Barrier::new(employees.len()));
    let racers: Vec<_> = employees
        .iter()
        .cloned()
        .enumerate()
        .map(|(who, employee)| {
            let db = db.clone();
            let start = Arc::clone(&start);
            thread::spawn(move || {
                let mut store = Store::open(&db).unwrap();
                let mut booked = Vec::new();
                start.wait();
                for attempt in 0..ATTEMPTS_PER_THREAD {
                    // The two threads walk the shifts from opposite ends, in different case.
                    let n = if who == 0 {
                        attempt % SHIFTS
                    } else {
                        SHIFTS - 1 - attempt % SHIFTS
                    };
                    let code = if who == 0 {
                        format!("S{n:03}")
                    } else {
                        format!("s{n:03}")
                    };
                    let tx = store.transaction().unwrap();
                    let outcome = tx.shifts().take(&code, &employee, now).unwrap();
                    let reply = match &outcome {
                        Take::Booked { id, .. } => format!("You got {id}"),
                        Take::AlreadyTaken { id, .. } => format!("{id} is taken"),
                        Take::NoSuchShift => format!("{code} does not exist"),
                    };
                    tx.outbox()
                        .queue(
                            &Outgoing {
                                recipient: &employee,
                                text: &reply,
                                kind: Kind::Reply,
                                cause: None,
                            },
                            now,
                        )
                        .unwrap();
                    tx.commit().unwrap();
                    if let Take::Booked { id, .. } = outcome {
                        booked.push(id);
                    }
                }
                booked
            })
        })
        .collect();
    let booked: Vec<Vec<String>> = racers.into_iter().map(|t| t.join().unwrap()).collect();

    let successes: usize = booked.iter().map(Vec::len).sum();
    assert_eq!(successes, SHIFTS, "exactly one success per shift");
    let mut winners: HashMap<String, usize> = HashMap::new();
    for (who, ids) in booked.iter().enumerate() {
        for id in ids {
            assert!(
                winners.insert(id.clone(), who).is_none(),
                "{id} booked twice"
            );
        }
    }

    let mut store = Store::open(&db).unwrap();
    let tx = store.read().unwrap();
    let shifts = tx.shifts().list(ShiftFilter::All).unwrap();
    assert_eq!(shifts.len(), SHIFTS);
    for shift in &shifts {
        let who = winners[&shift.id];
        match &shift.status {
            ShiftStatus::Taken { by: Some(by), .. } => {
                assert_eq!(by, &employees[who], "{}", shift.id)
            }
            other => panic!("{} is {other:?}", shift.id),
        }
    }

    // Exactly one reply per attempt, and each employee's "You got" replies match the database.
    let replies = tx.outbox().list(OutboxFilter::default()).unwrap();
    assert_eq!(replies.len(), employees.len() * ATTEMPTS_PER_THREAD);
    for (who, employee) in employees.iter().enumerate() {
        let mine: Vec<_> = replies
            .iter()
            .filter(|m| &m.recipient == employee)
            .collect();
        assert_eq!(mine.len(), ATTEMPTS_PER_THREAD);
        let got = mine
            .iter()
            .filter(|m| m.text.starts_with("You got"))
            .count();
        assert_eq!(got, booked[who].len());
    }
}
