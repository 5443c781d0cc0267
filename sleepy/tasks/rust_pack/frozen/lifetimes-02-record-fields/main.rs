#[derive(Debug, PartialEq)]
pub struct Field {
    pub text: &str,
    pub column: usize,
}

pub fn split_record(line: &str, sep: char) -> Vec<Field> {
    line.split(sep)
        .enumerate()
        .map(|(column, raw)| Field { text: raw.trim(), column })
        .filter(|f| !f.text.is_empty())
        .collect()
}

pub fn column_of(fields: &[Field], wanted: &str) -> Option<usize> {
    fields.iter().find(|f| f.text == wanted).map(|f| f.column)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn skips_blank_columns() {
        let fields = split_record("id, name,, email ", ',');
        assert_eq!(fields.len(), 3);
        assert_eq!(fields[2], Field { text: "email", column: 3 });
    }

    #[test]
    fn finds_header_column() {
        let header = split_record("sku;qty;price", ';');
        assert_eq!(column_of(&header, "price"), Some(2));
        assert_eq!(column_of(&header, "colour"), None);
    }
}
