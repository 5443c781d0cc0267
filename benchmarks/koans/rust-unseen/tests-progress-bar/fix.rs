// Renders text progress bars for a download manager.

/// How much of the download is done, in whole percent (rounded down).
pub fn percent(done: u64, total: u64) -> u64 {
    if total == 0 {
        return 100;
    }
    done * 100 / total

}

/// A bar `width` characters wide followed by the percentage, e.g. "[##......]  25%".
pub fn bar(done: u64, total: u64, width: usize) -> String {
    let pct = percent(done, total);
    let filled = pct as usize * width / 100;
    format!("[{}{}] {:>3}%", "#".repeat(filled), ".".repeat(width - filled), pct)
}

fn main() {
    for done in [0, 350, 700] {
        println!("{}", bar(done, 700, 20));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn half_way() {
        assert_eq!(percent(50, 100), 50);
    }

    #[test]
    fn rounds_down() {
        assert_eq!(percent(2, 3), 66);
        assert_eq!(percent(3_999_999, 4_000_000), 99);
    }

    #[test]
    fn empty_download_counts_as_done() {
        assert_eq!(percent(0, 0), 100);
    }

    #[test]
    fn renders_quarter_bar() {
        assert_eq!(bar(1, 4, 8), "[##......]  25%");
    }

    #[test]
    fn renders_full_bar() {
        assert_eq!(bar(10, 10, 4), "[####] 100%");
    }
}
