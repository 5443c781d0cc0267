struct Employee {
    name: String,
    dept: String,
}

struct Directory {
    staff: Vec<Employee>,
}

impl Directory {
    fn hire(&mut self, name: &str, dept: &str) {
        self.staff.push(Employee { name: name.into(), dept: dept.into() });
    }

    fn names_in(&self, dept: &str) -> Vec<String> {
        self.staff
            .iter()
            .filter(|e| e.dept == dept)
            .map(|e| e.name)
            .collect()
    }
}

fn main() {
    let mut dir = Directory { staff: Vec::new() };
    dir.hire("Grace", "eng");
    dir.hire("Linus", "eng");
    dir.hire("Ada", "research");

    let eng = dir.names_in("eng");
    println!("eng ({}): {}", eng.len(), eng.join(", "));
}
