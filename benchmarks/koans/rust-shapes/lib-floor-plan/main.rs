//! Room shapes for a floor-plan calculator.

use std::f64::consts::PI;

pub trait Shape {
    fn area(&self) -> f64;
    fn perimeter(&self) -> f64;
    fn label(&self) -> String {
        format!("shape of {:.1} m2", self.area())
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Rect {
    pub width: f64,
    pub depth: f64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct RoundRoom {
    pub radius: f64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct LShape {
    pub outer: Rect,
    pub cut_out: Rect,
}

impl Shape for Rect {
    fn area(&self) -> f64 {
        self.width * self.depth
    }
    fn perimeter(&self) -> f64 {
        2.0 * (self.width + self.depth)
    }
}

impl Shape for RoundRoom {
    fn area(&self) -> f64 {
        PI * self.radius * self.radius
    }
    fn perimeter(&self) -> f64 {
        2.0 * PI * self.radius
    }
    fn label(&self) -> String {
        format!("round room, r = {} m", self.radius)
    }
}

impl Shape for LShape {
    fn area(&self) -> f64 {
        self.outer.area() - self.cut_out.area()
    }
    fn perimeter(&self) -> f64 {
        // Cutting a rectangle out of a corner leaves the outline length unchanged.
        self.outer.perimeter()
    }
}

pub fn total_area<S: Shape>(rooms: &[S]) -> f64 {
    rooms.iter().map(|r| r.area()).sum()
}

pub fn largest<S>(rooms: &[S]) -> Option<&S> {
    let mut best: Option<&S> = None;
    for room in rooms {
        match best {
            Some(b) if b.area() >= room.area() => {}
            _ => best = Some(room),
        }
    }
    best
}

pub fn skirting_board_m(rooms: &[Box<dyn Shape>], door_width: f64) -> f64 {
    rooms.iter().map(|r| (r.perimeter() - door_width).max(0.0)).sum()
}
