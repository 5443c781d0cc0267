use std::collections::BTreeMap;

#[derive(Debug, Clone)]
struct Job {
    user: String,
    pages: u32,
    priority: u8,
}

fn next_job(queue: &mut Vec<Job>) -> Option<Job> {
    let best = (0..queue.len()).max_by_key(|&i| (queue[i].priority, std::cmp::Reverse(i)))?;
    Some(queue.remove(best))
}

fn main() {
    let mut queue = vec![
        Job { user: "ana".into(), pages: 12, priority: 1 },
        Job { user: "bo".into(), pages: 3, priority: 5 },
        Job { user: "ana".into(), pages: 40, priority: 1 },
        Job { user: "chen".into(), pages: 7, priority: 5 },
    ];

    let waiting = &queue;
    queue.push(Job { user: "bo".into(), pages: 1, priority: 9 });
    println!("{} jobs were waiting before the urgent one", waiting.len());

    let mut printed: Vec<Job> = Vec::new();
    let mut pages_by_user: BTreeMap<String, u32> = BTreeMap::new();
    while let Some(job) = next_job(&mut queue) {
        printed.push(job);
        *pages_by_user.entry(job.user.clone()).or_insert(0) += job.pages;
    }

    assert_eq!(printed[0].pages, 1);
    assert_eq!(printed[1].user, "bo");
    assert_eq!(printed[2].user, "chen");
    assert_eq!(pages_by_user["ana"], 52);
    assert!(queue.is_empty());
}
