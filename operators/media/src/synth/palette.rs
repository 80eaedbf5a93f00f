//! Named colours (saturated hues only: greys and hues at the red wrap-around make OpenCV's 8-bit hue unstable
//! under compression noise) and the themes that give all shots of a video one family of backgrounds and shapes.

/// A named hue, in degrees.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Colour {
    pub name: &'static str,
    pub hue: f64,
}

pub const RED: Colour = Colour { name: "red", hue: 8.0 };
pub const ORANGE: Colour = Colour { name: "orange", hue: 30.0 };
pub const YELLOW: Colour = Colour { name: "yellow", hue: 55.0 };
pub const GREEN: Colour = Colour { name: "green", hue: 120.0 };
pub const CYAN: Colour = Colour { name: "cyan", hue: 180.0 };
pub const BLUE: Colour = Colour { name: "blue", hue: 225.0 };
pub const PURPLE: Colour = Colour { name: "purple", hue: 270.0 };
pub const MAGENTA: Colour = Colour { name: "magenta", hue: 310.0 };

/// Shapes a shot can show.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    Circle,
    Square,
    Triangle,
    Star,
    Diamond,
}

impl Shape {
    pub fn name(self) -> &'static str {
        match self {
            Shape::Circle => "circle",
            Shape::Square => "square",
            Shape::Triangle => "triangle",
            Shape::Star => "star",
            Shape::Diamond => "diamond",
        }
    }
}

/// A family of backgrounds and shapes shared by all shots of a video, so its clips are near-duplicates. The
/// background hues of a theme are at least 65 degrees apart, so a cut always changes the hue.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Theme {
    pub name: &'static str,
    pub backgrounds: [Colour; 3],
    pub shapes: [Shape; 2],
    pub shape_colours: [Colour; 2],
}

pub const THEMES: [Theme; 6] = [
    Theme {
        name: "sunset",
        backgrounds: [ORANGE, PURPLE, GREEN],
        shapes: [Shape::Circle, Shape::Star],
        shape_colours: [YELLOW, RED],
    },
    Theme {
        name: "ocean",
        backgrounds: [BLUE, GREEN, YELLOW],
        shapes: [Shape::Circle, Shape::Triangle],
        shape_colours: [ORANGE, MAGENTA],
    },
    Theme {
        name: "forest",
        backgrounds: [GREEN, MAGENTA, ORANGE],
        shapes: [Shape::Triangle, Shape::Square],
        shape_colours: [YELLOW, CYAN],
    },
    Theme {
        name: "candy",
        backgrounds: [MAGENTA, CYAN, YELLOW],
        shapes: [Shape::Star, Shape::Circle],
        shape_colours: [GREEN, BLUE],
    },
    Theme {
        name: "night",
        backgrounds: [PURPLE, CYAN, ORANGE],
        shapes: [Shape::Star, Shape::Diamond],
        shape_colours: [YELLOW, GREEN],
    },
    Theme {
        name: "desert",
        backgrounds: [YELLOW, BLUE, MAGENTA],
        shapes: [Shape::Square, Shape::Diamond],
        shape_colours: [RED, GREEN],
    },
];

/// HSV (hue in degrees, saturation and value in 0..1) to 8-bit RGB.
pub fn hsv_to_rgb(hue: f64, saturation: f64, value: f64) -> [u8; 3] {
    let h = hue.rem_euclid(360.0) / 60.0;
    let c = value * saturation;
    let x = c * (1.0 - (h % 2.0 - 1.0).abs());
    let (r, g, b) = match h as u32 {
        0 => (c, x, 0.0),
        1 => (x, c, 0.0),
        2 => (0.0, c, x),
        3 => (0.0, x, c),
        4 => (x, 0.0, c),
        _ => (c, 0.0, x),
    };
    let m = value - c;
    let byte = |v: f64| ((v + m) * 255.0).round().clamp(0.0, 255.0) as u8;
    [byte(r), byte(g), byte(b)]
}
