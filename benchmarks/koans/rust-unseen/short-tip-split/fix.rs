// Splits a restaurant bill (in cents) between friends, after adding the tip.

fn with_tip(bill_cents: u64, tip_percent: u64) -> u64 {
    bill_cents + bill_cents * tip_percent / 100
}

/// Each person's share, rounded up so the group never pays less than the total.
fn share_per_person(total_cents: u64, people: u32) -> u64 {
    let people = u64::from(people);

    (total_cents + people - 1) / people
}

fn main() {
    let friends = ["Ana", "Bo", "Chen"];
    let total = with_tip(4500, 20);
    assert_eq!(total, 5400);

    let share = share_per_person(total, friends.len() as u32);
    assert_eq!(share, 1800);
    assert_eq!(share_per_person(1000, 3), 334);
    assert_eq!(share_per_person(999, 1), 999);

    for name in friends.iter() {
        println!("{name} pays {}.{:02}", share / 100, share % 100);
    }
}
