"""The protocol map's label placement (followup/charts.py, findings_map) at 900, 3,000 and 10,000 findings
spread at random over about 2 x 2 km (a quarter's protocol, and worse): seconds per map, the median of RUNS.
`python bench/protocol_map.py`."""

import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from fieldwalk.followup.charts import MapPoint, findings_map  # noqa: E402

RUNS = 3


def main() -> None:
    for n in (900, 3000, 10000):
        rng = random.Random(1)
        points = [MapPoint(i + 1, 59.33 + rng.random() * 0.02, 18.06 + rng.random() * 0.04) for i in range(n)]
        times = []
        for _ in range(RUNS):
            start = time.perf_counter()
            findings_map(points, "Karta")
            times.append(time.perf_counter() - start)
        print(f"{n} findings: {statistics.median(times):.2f} s")


if __name__ == "__main__":
    main()
