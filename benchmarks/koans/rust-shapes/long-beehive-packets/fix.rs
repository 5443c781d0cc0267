use std::collections::BTreeMap;
use std::fmt;

#[derive(Debug, PartialEq)]
enum PacketError {
    TooShort(usize),
    BadMagic(u8),
    BadChecksum { expected: u8, found: u8 },
    UnknownKind(u8),
}

impl fmt::Display for PacketError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PacketError::TooShort(n) => write!(f, "packet too short ({} bytes)", n),
            PacketError::BadMagic(b) => write!(f, "bad magic byte {:#04x}", b),
            PacketError::BadChecksum { expected, found } => {
                write!(f, "checksum {:#04x} != {:#04x}", found, expected)
            }
            PacketError::UnknownKind(k) => write!(f, "unknown reading kind {}", k),
        }
    }
}

#[derive(Debug, PartialEq)]
enum Reading {
    WeightGrams(u32),
    TempTenths(i16),
}

#[derive(Debug, PartialEq)]
struct Packet {
    hive: u8,
    reading: Reading,
}

const MAGIC: u8 = 0xB7;

fn checksum(bytes: &[u8]) -> u8 {
    bytes.iter().fold(0u8, |acc, b| acc.wrapping_add(*b))
}

fn read_u32(bytes: &[u8], at: usize) -> Option<u32> {
    let chunk = bytes.get(at..at + 4)?;
    Some(u32::from_be_bytes([chunk[0], chunk[1], chunk[2], chunk[3]]))
}

fn decode(bytes: &[u8]) -> Result<Packet, PacketError> {
    if bytes.len() < 4 {
        return Err(PacketError::TooShort(bytes.len()));
    }
    if bytes[0] != MAGIC {
        return Err(PacketError::BadMagic(bytes[0]));
    }
    let (body, last) = bytes.split_at(bytes.len() - 1);
    let expected = checksum(body);
    if expected != last[0] {
        return Err(PacketError::BadChecksum { expected, found: last[0] });
    }
    let hive = body[1];
    let reading = match body[2] {
        1 => Reading::WeightGrams(read_u32(body, 3).ok_or(PacketError::TooShort(bytes.len()))?),
        2 => {
            let raw = body.get(3..5).ok_or(PacketError::TooShort(bytes.len()))?;
            Reading::TempTenths(i16::from_be_bytes([raw[0], raw[1]]))
        }
        k => return Err(PacketError::UnknownKind(k)),
    };
    Ok(Packet { hive, reading })
}

fn encode(hive: u8, kind: u8, payload: &[u8]) -> Vec<u8> {
    let mut out = vec![MAGIC, hive, kind];
    out.extend_from_slice(payload);
    let sum = checksum(&out);
    out.push(sum);
    out
}

fn summarise(stream: &[Vec<u8>]) -> (BTreeMap<u8, u32>, Vec<String>) {
    let mut weights = BTreeMap::new();
    let mut problems = Vec::new();
    for raw in stream {
        match decode(raw) {
            Ok(Packet { hive, reading: Reading::WeightGrams(g) }) => {
                weights.insert(hive, g);
            }
            Ok(Packet { reading: Reading::TempTenths(t), hive }) => {
                println!("hive {} at {:.1} C", hive, t as f32 / 10.0);
            }
            Err(e) => problems.push(e.to_string()),
        }
    }
    (weights, problems)
}

fn main() {
    let stream = vec![
        encode(1, 1, &41_250u32.to_be_bytes()),
        encode(2, 1, &38_900u32.to_be_bytes()),
        encode(1, 2, &(-35i16).to_be_bytes()),
        encode(3, 1, &[0, 1]),
        vec![0x00, 1, 1, 9],
        encode(2, 1, &39_020u32.to_be_bytes()),
        encode(4, 7, &[1]),
    ];
    let (weights, problems) = summarise(&stream);
    assert_eq!(weights.get(&1), Some(&41_250));
    assert_eq!(weights.get(&2), Some(&39_020));
    assert_eq!(weights.len(), 2);
    assert_eq!(problems.len(), 3);
    assert_eq!(problems[1], "bad magic byte 0x00");
    for p in &problems {
        println!("skipped: {}", p);
    }
    let total: u32 = weights.values().sum();
    println!("total weight {} g over {} hives", total, weights.len());
}
