#[derive(Debug, Clone, Copy, PartialEq)]
struct Rgb {
    r: u8,
    g: u8,
    b: u8,
}

fn mix_channel(a: u8, b: u8, weight: u16) -> u8 {
    let a = a as u16;
    let b = b as u16;
    ((a * (256 - weight) + b * weight) / 256) as u8
}

fn blend(x: Rgb, y: Rgb, weight: u16) -> Rgb {
    Rgb {
        r: mix_channel(x.r, y.r, weight),
        g: mix_channel(x.g, y.g, weight),
        b: mix_channel(x.b, y.b, weight),
    }
}

fn grey(c: Rgb) -> u8 {
    let sum = c.r as u16 + c.g as u16 + c.b as u16;
    (sum / 3) as u8
}

fn main() {
    let black = Rgb { r: 0, g: 0, b: 0 };
    let white = Rgb { r: 255, g: 255, b: 255 };
    let teal = Rgb { r: 0, g: 128, b: 128 };

    assert_eq!(blend(black, white, 0), black);
    assert_eq!(blend(black, white, 128), Rgb { r: 127, g: 127, b: 127 });
    let light_teal = blend(teal, white, 64);
    println!("{:?} grey {}", light_teal, grey(light_teal));
    assert_eq!(grey(white), 255);
    assert_eq!(light_teal.r, 63);
}
