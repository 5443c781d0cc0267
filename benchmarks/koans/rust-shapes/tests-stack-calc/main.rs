#[derive(Debug, Clone)]
pub enum Token {
    Num(i64),
    Op(char),
    Dup,
}

#[derive(Debug, PartialEq)]
pub enum CalcError {
    Underflow,
    DivByZero,
    BadToken(String),
}

pub fn tokenize(src: &str) -> Result<Vec<Token>, CalcError> {
    src.split_whitespace()
        .map(|w| match w {
            "+" | "-" | "*" | "/" => Ok(Token::Op(w.chars().next().unwrap())),
            "dup" => Ok(Token::Dup),
            _ => w.parse().map(Token::Num).map_err(|_| CalcError::BadToken(w.to_string())),
        })
        .collect()
}

pub fn eval(tokens: &[Token]) -> Result<i64, CalcError> {
    let mut stack: Vec<i64> = Vec::new();
    for t in tokens {
        match t {
            Token::Num(n) => stack.push(*n),
            Token::Dup => {
                let top = *stack.last().ok_or(CalcError::Underflow)?;
                stack.push(top);
            }
            Token::Op(op) => {
                let b = stack.pop().ok_or(CalcError::Underflow)?;
                let a = stack.pop().ok_or(CalcError::Underflow)?;
                stack.push(match op {
                    '+' => a + b,
                    '-' => a - b,
                    '*' => a * b,
                    _ => a.checked_div(b).ok_or(CalcError::DivByZero)?,
                });
            }
        }
    }
    stack.pop().ok_or(CalcError::Underflow)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokenizes() {
        let toks = tokenize("3 dup * 4 -").unwrap();
        assert_eq!(toks, vec![Token::Num(3), Token::Dup, Token::Op('*'), Token::Num(4), Token::Op('-')]);
        assert_eq!(tokenize("2 x"), Err(CalcError::BadToken("x".to_string())));
    }

    #[test]
    fn evaluates() {
        assert_eq!(eval(&tokenize("3 dup * 4 -").unwrap()), Ok(5));
        assert_eq!(eval(&tokenize("10 2 /").unwrap()), Ok(5));
    }

    #[test]
    fn reports_errors() {
        assert_eq!(eval(&tokenize("1 0 /").unwrap()), Err(CalcError::DivByZero));
        assert_eq!(eval(&tokenize("+").unwrap()), Err(CalcError::Underflow));
    }
}
