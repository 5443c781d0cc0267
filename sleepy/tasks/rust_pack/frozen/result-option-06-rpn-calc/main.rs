enum Token {
    Num(f64),
    Op(char),
}

fn tokenize(src: &str) -> Vec<Token> {
    let token = |t: &str| t.parse().map(Token::Num).unwrap_or(Token::Op(t.chars().next().unwrap()));
    src.split_whitespace().map(token).collect()
}

fn eval(tokens: &[Token]) -> Result<f64, String> {
    let mut stack: Vec<f64> = Vec::new();
    for tok in tokens {
        match tok {
            Token::Num(n) => stack.push(*n),
            Token::Op(op) => {
                let b = stack.pop().ok_or("stack underflow")?;
                let a = stack.pop().ok_or("stack underflow")?;
                stack.push(match op {
                    '+' => a + b,
                    '-' => a - b,
                    '*' => a * b,
                    '/' => a / b,
                    other => return Err(format!("unknown operator {other}")),
                });
            }
        }
    }
    match stack.pop() {
        Some(result) if stack.is_empty() => Ok(result),
        Some(_) => Err(format!("{} values left over", stack.len() + 1)),
    }
}

fn main() {
    for expr in ["3 4 + 2 *", "5 1 2 + 4 * + 3 -", "1 +", ""] {
        println!("{expr:?} => {:?}", eval(&tokenize(expr)));
    }
}
