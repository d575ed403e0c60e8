//! Any bytes as a Children in Need census return: the reader may refuse the file or any
//! child, but must never panic or hang, and must name every fault of a child it refuses by a
//! path under that child; a child it reads must write and read back the same.
#![no_main]

use libfuzzer_sys::fuzz_target;
use safeguard_interop::cin_census::{CollectionYear, Return, read, write};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(read_return) = read(text) else {
        return;
    };
    let mut children = Vec::new();
    for (i, child) in read_return.children.into_iter().enumerate() {
        match child {
            Ok(c) => children.push(c),
            Err(fault) => {
                assert_eq!(fault.index, i + 1);
                assert!(!fault.faults.is_empty());
                for f in &fault.faults {
                    assert!(f.path.starts_with("/Message/Children/"), "{}", f.path);
                    assert!(!f.reason.is_empty());
                }
            }
        }
    }
    let again = Return {
        year: CollectionYear::ending(2024),
        lea: "201".into(),
        children,
    };
    let back = read(&write(&again)).expect("a written return reads");
    let back: Vec<_> = back
        .children
        .into_iter()
        .map(|c| c.expect("a written child reads"))
        .collect();
    assert_eq!(back, again.children);
});
