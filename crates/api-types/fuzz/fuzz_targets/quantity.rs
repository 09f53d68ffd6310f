//! Parses arbitrary UTF-8 as a quantity; on success checks that the canonical form reads back to
//! the same amount and is stable, and that arithmetic and conversions do not panic.

#![no_main]

use std::str::FromStr;

use kubernaut_api_types::Quantity;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(q) = Quantity::from_str(text) else {
        return;
    };

    let canonical = q.to_string();
    let back = Quantity::from_str(&canonical).expect("the canonical form parses");
    assert_eq!(back, q, "{text:?} -> {canonical:?}");
    let again = back.to_string();
    if again != canonical {
        // Only a whole BinarySI amount that is not a multiple of 1024 is written without a suffix
        // and reads back as DecimalSI; a second pass is stable.
        assert!(
            canonical
                .trim_start_matches('-')
                .bytes()
                .all(|c| c.is_ascii_digit()),
            "{text:?}"
        );
        assert_eq!(
            Quantity::from_str(&again).expect("parses").to_string(),
            again,
            "{text:?}"
        );
    }

    let json = serde_json::to_string(&q).expect("serializes");
    let from_json: Quantity = serde_json::from_str(&json).expect("deserializes");
    assert_eq!(from_json, q, "{text:?}");

    let _ = (
        q.value(),
        q.milli_value(),
        q.scaled_value(-9),
        q.as_i64(),
        q.as_approximate_f64(),
    );
    let negated = -&q;
    assert_eq!(-negated.clone(), q);
    assert!(q.checked_sub(&q).expect("no alignment needed").is_zero());
    if let Ok(double) = q.checked_add(&q) {
        let _ = double.to_string();
        assert_eq!(double.checked_sub(&q).expect("aligned already"), q);
    }
    assert_eq!(q.checked_add(&negated).map(|z| z.is_zero()), Ok(true));
    assert_eq!(q.cmp(&negated), q.sign().cmp(&0));
});
