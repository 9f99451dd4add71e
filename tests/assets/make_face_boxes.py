"""Write tests/assets/face-boxes.json: the faces in the shared reference photos, labelled by
hand (run from the project root: ``python tests/assets/make_face_boxes.py``).

How the boxes were made: every decodable photo under ``../shared/datasets`` (exif-samples,
pdq, c2pa; the camera-photos folder is not labelled yet) was shown at full size with a
100-pixel grid, with the candidate boxes of three locators drawn over it (OpenCV Haar, dlib
HOG with a low threshold, dlib's CNN with upsampling), and each face was judged by eye. A box
proposed by a locator was kept where it sat on the face (eyebrows to chin); a missed face was
boxed by reading the grid. Coordinates are pixels of the upright picture (after the EXIF
orientation), x, y of the top-left corner, width, height.

``faces``: real human faces at least 20 pixels high that are at least half visible.
``ignore``: places where a box is neither a hit nor a false box: faces under 20 pixels,
faces mostly hidden or seen from behind a camera, and drawn or painted faces. Every photo
not named in ``LABELS`` was checked and shows no face.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

LABELS: dict[str, dict[str, list[list[int]]]] = {
    "exif-samples/jpg/exif-org/canon-ixus.jpg": {
        "faces": [[255, 200, 30, 31], [298, 215, 26, 26], [327, 221, 31, 31]],
        "ignore": [[0, 205, 45, 60]],  # the photographer, face behind his camera
    },
    "exif-samples/jpg/exif-org/kodak-dc210.jpg": {
        "faces": [[1, 249, 48, 49], [145, 173, 40, 41], [294, 235, 48, 48], [418, 255, 83, 82]],
        "ignore": [[435, 180, 50, 50]],  # a woman behind, her face mostly hidden
    },
    "exif-samples/jpg/exif-org/sony-cybershot.jpg": {"faces": [[101, 81, 40, 41]]},
    "exif-samples/jpg/exif-org/sony-d700.jpg": {"faces": [[97, 81, 40, 41], [237, 117, 40, 41]]},
    "exif-samples/jpg/invalid/image00971.jpg": {
        "faces": [[500, 44, 60, 60]],
        "ignore": [[230, 180, 80, 47]],  # a face under raised hands, cut by the frame
    },
    "exif-samples/jpg/invalid/image01088.jpg": {"ignore": [[240, 0, 185, 40]]},  # cut off
    "exif-samples/jpg/invalid/image01137.jpg": {"faces": [[6, 21, 39, 40]]},
    "exif-samples/tiff/DudleyLeavittUtah.tiff": {"faces": [[64, 54, 71, 72]]},
    "pdq/reg-test-input/labelme-subset/q0291.jpg": {
        "faces": [[35, 26, 24, 26], [118, 31, 26, 27], [154, 31, 24, 30]],
    },
    # faces under 20 pixels
    "exif-samples/jpg/Konica_Minolta_DiMAGE_Z3.jpg": {"ignore": [[8, 5, 20, 24]]},
    "exif-samples/tiff/BSG1.tiff": {"ignore": [[130, 110, 380, 70]]},  # a band on a stage
    "exif-samples/jpg/exif-org/olympus-c960.jpg": {"ignore": [[80, 380, 200, 100]]},
    "exif-samples/jpg/long_description.jpg": {"ignore": [[0, 20, 100, 53]]},
    # drawn and painted faces
    "exif-samples/jpg/PaintTool_sample.jpg": {"ignore": [[0, 0, 88, 100]]},
    "exif-samples/jpg/Samsung_Digimax_i50_MP3.jpg": {"ignore": [[0, 0, 100, 75]]},
}
FOLDERS = ("c2pa", "exif-samples", "pdq")
SUFFIXES = (".jpg", ".jpeg", ".png", ".tif", ".tiff")


def photos(root: Path) -> list[Path]:
    from PIL import Image

    out = []
    for folder in FOLDERS:
        for p in sorted((root / folder).rglob("*")):
            if p.suffix.lower() not in SUFFIXES or not p.is_file():
                continue
            try:
                with Image.open(p) as im:
                    im.convert("RGB")
            except Exception:  # undecodable files are not part of the set
                continue
            out.append(p)
    return out


def main() -> None:
    here = Path(__file__).resolve().parent
    root = here.parent.parent.parent / "shared" / "datasets"
    doc = {"about": __doc__.split("\n\n")[1].replace("\n", " "), "photos": {}}
    for p in photos(root):
        rel = p.relative_to(root).as_posix()
        label = LABELS.get(rel, {})
        doc["photos"][rel] = {
            "sha256": hashlib.sha256(p.read_bytes()).hexdigest(),
            "faces": label.get("faces", []),
            "ignore": label.get("ignore", []),
        }
    missing = set(LABELS) - set(doc["photos"])
    assert not missing, missing
    (here / "face-boxes.json").write_text(json.dumps(doc, indent=1) + "\n")


if __name__ == "__main__":
    main()
