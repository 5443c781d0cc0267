struct Matrix {
    rows: usize,
    cols: usize,
    data: Vec<f64>,
}

impl Matrix {
    fn zeros(rows: usize, cols: usize) -> Self {
        Matrix { rows, cols, data: vec![0.0; rows * cols] }
    }

    fn get(&self, r: usize, c: usize) -> f64 {
        self.data[r * self.cols + c]
    }

    fn set(&mut self, r: usize, c: usize, value: f64) {
        self.data[r * self.cols + c] = value;
    }

    fn transpose(&self) -> Matrix {
        let mut t = Matrix::zeros(self.cols, self.rows);
        for r in 0..self.rows {
            for c in 0..self.cols {
                t.set(c, r, self.get(r, c));
            }
        }
        t
    }
}

fn main() {
    let mut m = Matrix::zeros(2, 3);
    for i in 0..6 {
        m.set(i / 3, i % 3, i as f64 * 1.5);
    }
    let t = m.transpose();
    println!("{}x{} -> {}x{}", m.rows, m.cols, t.rows, t.cols);
    println!("{:?}\n{:?}", m.data, t.data);
}
