"""Copy the pinned front-end packages from node_modules into static/vendor/ (run by `make vendor`)."""

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENDOR = ROOT / "static" / "vendor"
# package -> files or folders inside node_modules/<package>/ that the app serves
FILES = {
    "leaflet": ["dist/leaflet.js", "dist/leaflet.css", "dist/images"],
    # EXIF GPS and orientation read in the browser before a photo is downscaled (static/js/photo-prep.js)
    "exifr": ["dist/lite.umd.js"],
}


def main() -> int:
    """Install the locked packages with npm ci and copy what the app serves."""
    if shutil.which("npm") is None:
        print("vendor: npm not found; the map is disabled and pages fall back to lists.")
        return 0
    subprocess.run(["npm", "ci", "--ignore-scripts", "--no-audit", "--no-fund"], cwd=ROOT, check=True)
    for package, paths in FILES.items():
        for rel in paths:
            src = ROOT / "node_modules" / package / rel
            dst = VENDOR / package / Path(rel).name
            dst.parent.mkdir(parents=True, exist_ok=True)
            if src.is_dir():
                shutil.copytree(src, dst, dirs_exist_ok=True)
            else:
                shutil.copy2(src, dst)
    print(f"vendor: copied {', '.join(FILES)} into {VENDOR.relative_to(ROOT)}/")
    return 0


if __name__ == "__main__":
    sys.exit(main())
