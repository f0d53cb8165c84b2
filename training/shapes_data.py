"""Procedural captioned shape images for the embedded model (Restart Studio).

Each sample is a 64x64 RGB image: a plain background colour and either one shape
or two shapes of the same kind and colour (circle, square or triangle), with random
position, size and rotation. Captions are drawn from varied English templates;
the ground-truth attributes are kept next to every image.
Deterministic given a seed.
"""
import numpy as np

SIZE = 64
SS = 2  # supersampling factor for anti-aliased edges

COLORS = {
    "red": (220, 30, 35),
    "green": (30, 165, 60),
    "blue": (35, 70, 225),
    "yellow": (245, 220, 30),
    "purple": (140, 45, 185),
    "orange": (250, 135, 20),
    "white": (245, 245, 245),
    "black": (15, 15, 15),
}
COLOR_NAMES = list(COLORS.keys())
SHAPES = ["circle", "square", "triangle"]
COUNTS = [1, 2]

COLOR_SYNONYMS = {
    "purple": ["purple", "purple", "magenta", "violet"],
}
SHAPE_SYNONYMS = {
    "circle": (["circle", "circle", "disc", "round dot"], ["circles", "circles", "discs", "round dots"]),
    "square": (["square", "square", "box", "block"], ["squares", "squares", "boxes", "blocks"]),
    "triangle": (["triangle", "triangle", "triangle", "three-sided shape"], ["triangles", "triangles", "triangles", "three-sided shapes"]),
}


def _grid():
    c = (np.arange(SIZE * SS) + 0.5) / SS
    return np.meshgrid(c, c)  # x, y in image pixel units


_GX, _GY = _grid()


def shape_mask(kind, cx, cy, r, angle):
    """Coverage in [0,1] at 64x64 of a shape with centre (cx,cy), 'radius' r (half extent), rotation angle."""
    x = _GX - cx
    y = _GY - cy
    if kind == "circle":
        m = (x * x + y * y) <= r * r
    else:
        ca, sa = np.cos(angle), np.sin(angle)
        u = ca * x + sa * y
        v = -sa * x + ca * y
        if kind == "square":
            h = r * 0.85  # half side: a square looks as big as a circle of radius r
            m = (np.abs(u) <= h) & (np.abs(v) <= h)
        else:  # equilateral triangle with circumradius r*1.2
            R = r * 1.25
            m = np.ones_like(u, dtype=bool)
            for k in range(3):
                a = 2 * np.pi * k / 3 + np.pi / 2
                nx, ny = np.cos(a), np.sin(a)
                m &= (u * nx + v * ny) <= R / 2
    m = m.astype(np.float32).reshape(SIZE, SS, SIZE, SS).mean(axis=(1, 3))
    return m


def _region(cx, cy):
    def band(p):
        return 0 if p < 22 else (2 if p > 42 else 1)
    return band(cx), band(cy)


def sample_attributes(rng):
    bg = int(rng.integers(len(COLOR_NAMES)))
    fg = int(rng.integers(len(COLOR_NAMES) - 1))
    if fg >= bg:
        fg += 1
    shape = int(rng.integers(len(SHAPES)))
    count = int(rng.integers(1, 3))
    shapes = []
    if count == 1:
        r = float(rng.uniform(8, 20))
        m = r * 1.3 + 1
        cx, cy = rng.uniform(m, SIZE - m, size=2)
        shapes.append((float(cx), float(cy), r, float(rng.uniform(0, 2 * np.pi))))
    else:
        while True:
            r = float(rng.uniform(7, 12))
            m = r * 1.3 + 1
            p = rng.uniform(m, SIZE - m, size=(2, 2))
            if np.hypot(*(p[0] - p[1])) > 2 * r * 1.3 + 3:
                break
        for k in range(2):
            shapes.append((float(p[k, 0]), float(p[k, 1]), r, float(rng.uniform(0, 2 * np.pi))))
    return {"bg": bg, "fg": fg, "shape": shape, "count": count, "shapes": shapes}


def render(attr, rng):
    def jit():
        return rng.uniform(-10, 10, size=3)

    bgc = np.clip(np.array(COLORS[COLOR_NAMES[attr["bg"]]], np.float32) + jit(), 0, 255)
    fgc = np.clip(np.array(COLORS[COLOR_NAMES[attr["fg"]]], np.float32) + jit(), 0, 255)
    img = np.broadcast_to(bgc, (SIZE, SIZE, 3)).astype(np.float32)
    for (cx, cy, r, a) in attr["shapes"]:
        m = shape_mask(SHAPES[attr["shape"]], cx, cy, r, a)[..., None]
        img = img * (1 - m) + fgc * m
    return np.clip(np.rint(img), 0, 255).astype(np.uint8)


POS_PHRASES = {
    (0, 0): ["in the top left corner", "at the top left", "in the upper left"],
    (1, 0): ["at the top", "near the top", "in the upper part"],
    (2, 0): ["in the top right corner", "at the top right", "in the upper right"],
    (0, 1): ["on the left", "on the left side", "at the left"],
    (1, 1): ["in the center", "in the middle", "in the centre"],
    (2, 1): ["on the right", "on the right side", "at the right"],
    (0, 2): ["in the bottom left corner", "at the bottom left", "in the lower left"],
    (1, 2): ["at the bottom", "near the bottom", "in the lower part"],
    (2, 2): ["in the bottom right corner", "at the bottom right", "in the lower right"],
}


def _pick(rng, xs):
    return xs[int(rng.integers(len(xs)))]


def caption(attr, rng):
    """A random natural-English caption for the attributes (different templates and synonyms)."""
    def cname(i):
        return _pick(rng, COLOR_SYNONYMS.get(COLOR_NAMES[i], [COLOR_NAMES[i]]))

    fg, bg = cname(attr["fg"]), cname(attr["bg"])
    sing, plur = SHAPE_SYNONYMS[SHAPES[attr["shape"]]]
    if attr["count"] == 1:
        noun = _pick(rng, sing)
        r = attr["shapes"][0][2]
        size = ""
        u = rng.random()
        if u < 0.35:
            if r < 11.5:
                size = _pick(rng, ["small ", "little ", "tiny "])
            elif r > 16:
                size = _pick(rng, ["large ", "big ", "huge "])
        art = "an" if (size or fg)[0] in "aeiou" else "a"
        subj = f"{art} {size}{fg} {noun}"
        pos = ""
        if rng.random() < 0.4:
            cx, cy = attr["shapes"][0][:2]
            pos = " " + _pick(rng, POS_PHRASES[_region(cx, cy)])
    else:
        noun = _pick(rng, plur)
        subj = f"{_pick(rng, ['two', 'two', 'a pair of', '2'])} {fg} {noun}"
        pos = ""
    abg = "an" if bg[0] in "aeiou" else "a"
    bgp = _pick(rng, [f"on {abg} {bg} background", f"on {bg}", f"on {abg} {bg} background", f"against {abg} {bg} background",
                      f"over a plain {bg} background", f"on {abg} {bg} backdrop"])
    templates = [
        f"{subj}{pos} {bgp}",
        f"{subj} {bgp}{pos}",
        f"a picture of {subj}{pos} {bgp}",
        f"{bg} background with {subj}{pos}",
        f"an image of {subj}{pos} {bgp}",
        f"{subj}{pos}, {bg} background",
        f"a simple drawing of {subj}{pos} {bgp}",
        f"{subj}{pos} {bgp}",  # the first template again: twice as likely
    ]
    s = templates[int(rng.integers(len(templates)))]
    if rng.random() < 0.2:
        s = s[0].upper() + s[1:]
    return s


def make_dataset(n, seed):
    """n images (uint8 [n,64,64,3]) and their attributes (dict of int arrays + list of shape geometry)."""
    rng = np.random.default_rng(seed)
    imgs = np.zeros((n, SIZE, SIZE, 3), np.uint8)
    attrs = []
    for i in range(n):
        a = sample_attributes(rng)
        imgs[i] = render(a, rng)
        attrs.append(a)
    labels = {k: np.array([a[k] for a in attrs], np.int64) for k in ("bg", "fg", "shape", "count")}
    return imgs, labels, attrs


if __name__ == "__main__":
    import time
    t = time.time()
    imgs, labels, attrs = make_dataset(200, 1)
    print("200 images in", time.time() - t)
    rng = np.random.default_rng(0)
    for a in attrs[:12]:
        print(caption(a, rng))
