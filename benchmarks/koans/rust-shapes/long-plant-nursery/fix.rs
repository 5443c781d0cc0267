#[derive(Debug, Clone, Copy, PartialEq)]
enum Stage {
    Seed,
    Seedling,
    Mature,
    Dormant,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Season {
    Spring,
    Summer,
    Autumn,
    Winter,
}

#[derive(Debug)]
struct Plant {
    name: String,
    stage: Stage,
    pot_cm: u32,
    height_cm: u32,
}

#[derive(Debug, PartialEq)]
enum Task {
    Water { plant: String, ml: u32 },
    Repot { plant: String, new_pot_cm: u32 },
    Skip(String),
}

impl Plant {
    fn new(name: &str, stage: Stage, pot_cm: u32, height_cm: u32) -> Plant {
        Plant { name: name.to_string(), stage, pot_cm, height_cm }
    }

    fn base_water_ml(&self) -> u32 {
        match self.stage {
            Stage::Seed => 20,
            Stage::Seedling => 50,
            Stage::Mature => self.pot_cm * 15,
            Stage::Dormant => 0,
        }
    }

    fn outgrown_pot(&self) -> bool {
        self.stage == Stage::Mature && self.height_cm > self.pot_cm * 3
    }
}

fn season_factor(season: Season) -> f64 {
    match season {
        Season::Spring => 1.0,
        Season::Summer => 1.6,
        Season::Autumn => 0.8,
        Season::Winter => 0.4,
    }
}

fn next_stage(stage: Stage, season: Season) -> Stage {
    match (stage, season) {
        (Stage::Seed, Season::Spring) => Stage::Seedling,
        (Stage::Seedling, Season::Summer) => Stage::Mature,
        (Stage::Mature, Season::Winter) => Stage::Dormant,
        (Stage::Dormant, Season::Spring) => Stage::Mature,
        (same, _) => same,
    }
}

fn plan(plants: &[Plant], season: Season) -> Vec<Task> {
    let mut tasks = Vec::new();
    for p in plants {
        if p.outgrown_pot() && season == Season::Spring {
            tasks.push(Task::Repot { plant: p.name.clone(), new_pot_cm: p.pot_cm + 4 });
        }
        let ml = (p.base_water_ml() as f64 * season_factor(season)).round() as u32;
        if ml == 0 {
            tasks.push(Task::Skip(p.name.clone()));
        } else {
            tasks.push(Task::Water { plant: p.name.clone(), ml });
        }
    }
    tasks
}

fn describe(task: &Task) -> String {
    match task {
        Task::Water { plant, ml } => format!("water {} with {} ml", plant, ml),
        Task::Repot { plant, new_pot_cm } => format!("repot {} into a {} cm pot", plant, new_pot_cm),
        Task::Skip(plant) => format!("leave {} alone", plant),
    }
}

fn main() {
    let mut plants = vec![
        Plant::new("basil", Stage::Seedling, 8, 6),
        Plant::new("fig", Stage::Mature, 20, 75),
        Plant::new("tulip", Stage::Dormant, 12, 0),
        Plant::new("chilli", Stage::Seed, 6, 0),
    ];

    let spring = plan(&plants, Season::Spring);
    for t in &spring {
        println!("{}", describe(t));
    }
    assert_eq!(spring.len(), 5);
    assert_eq!(spring[1], Task::Repot { plant: "fig".to_string(), new_pot_cm: 24 });
    assert_eq!(spring[4], Task::Water { plant: "chilli".to_string(), ml: 20 });

    for p in plants.iter_mut() {
        p.stage = next_stage(p.stage, Season::Spring);
    }
    assert_eq!(plants[2].stage, Stage::Mature);
    assert_eq!(plants[3].stage, Stage::Seedling);

    let summer = plan(&plants, Season::Summer);
    assert_eq!(summer[0], Task::Water { plant: "basil".to_string(), ml: 80 });
    assert!(!summer.iter().any(|t| matches!(t, Task::Skip(_))));
}
