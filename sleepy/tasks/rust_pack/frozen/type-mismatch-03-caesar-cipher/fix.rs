fn shift_letter(c: char, key: u32) -> char {
    if !c.is_ascii_alphabetic() {
        return c;
    }
    let base = if c.is_ascii_lowercase() { 'a' as u32 } else { 'A' as u32 };
    let offset = (c as u32 - base + key) % 26;
    char::from_u32(base + offset).unwrap()
}

fn encrypt(text: &str, key: u32) -> String {
    text.chars().map(|c| shift_letter(c, key)).collect()
}

fn decrypt(text: &str, key: u32) -> String {
    encrypt(text, 26 - key % 26)
}

fn main() {
    let message = "Meet me at the Old Mill, 9pm";
    let secret = encrypt(message, 3);
    println!("{}", secret);
    assert_eq!(decrypt(&secret, 3), message);
    println!("round trip ok");
}
