"""The Engine port on the `ml` package (torch): quick and best own style, and the presets."""

from __future__ import annotations

import time
from collections.abc import Callable

from PIL import Image

from handler.core.images import check_image
from handler.core.job import Job, Kind, Quality, Strength
from handler.core.pace import learned_pace, pace_key, usable
from handler.core.ports import BadPicture, Paces, ProgressReport, Stopped
from handler.observability import logger
from ml import api, imageio, paintings, priors, registry
from ml.errors import BadImage, BadImageKind, JobCancelled
from ml.progress import Progress

# The ml package words its reasons in English (for the command line); the user reads the core's text of the same
# kind (`reason_<key>`, in their language), filled in with the numbers ml gives.
REASONS: dict[BadImageKind, str] = {
    BadImageKind.UNREADABLE: "corrupt",
    BadImageKind.EMPTY: "empty",
    BadImageKind.NOT_AN_IMAGE: "unsupported_format",
    BadImageKind.DAMAGED: "corrupt",
    BadImageKind.TOO_MANY_PIXELS: "too_many_pixels",
    BadImageKind.TOO_SMALL: "too_small",
    BadImageKind.TOO_NARROW: "too_narrow",
}


def _open(data: bytes, which: str) -> Image.Image:
    """One of the job's pictures, decoded; what is wrong with it names which picture it is."""
    try:
        return imageio.open_image(data)
    except BadImage as error:
        raise BadPicture(REASONS[error.kind], error.values, picture=which) from error


def _quality(job: Job) -> api.Quality:
    return "best" if job.quality == Quality.BEST else "quick"


class MLEngine:
    """Decodes the pictures, runs the model, encodes the result within Telegram's limits.

    With `paces`, each job's first time left is the prior corrected by the recent jobs' pace of its kind, size and
    compute path (`handler.core.pace`), and each job run on a warm engine records its own.
    """

    def __init__(
        self,
        paces: Paces | None = None,
        *,
        clock: Callable[[], float] = time.perf_counter,
        wall: Callable[[], float] = time.time,
    ) -> None:
        self.paces = paces
        self.clock = clock
        self.wall = wall

    def _recent_pace(self, key: str) -> float:
        """The prior's correction for jobs of `key` (1.0 without paces, or when they cannot be read)."""
        if self.paces is None:
            return 1.0
        try:
            return learned_pace(self.paces.recent_paces(key))
        except Exception:  # a hint, not worth failing the job for
            logger.warning("the recent paces could not be read", extra={"pace_key": key})
            return 1.0

    def _learn(self, key: str, seconds: float, expected: float) -> None:
        """Record a job's pace: `seconds` taken for `expected` (the prior's figure, uncorrected)."""
        pace = seconds / expected if expected > 0 else 0.0
        if self.paces is None or not usable(pace):
            return
        try:
            self.paces.add_pace(key, pace, self.wall())
        except Exception:  # the job is done; only the next estimate misses it
            logger.warning("the job's pace could not be recorded", extra={"pace_key": key})

    def run(
        self,
        job: Job,
        content: bytes,
        style: bytes | None,
        progress: ProgressReport,
        should_cancel: Callable[[], bool],
        mix: bytes | None = None,
    ) -> tuple[bytes, str]:
        def report(p: Progress) -> None:
            preview = imageio.encode_preview(p.preview) if p.preview is not None else None
            progress(p.fraction, p.eta_seconds, preview)

        for which, picture in (("photo", content), ("style", style), ("style", mix)):
            # The core's check names what is wrong in words the user reads in their language; the ml package's
            # own checks (which speak English) remain behind it for what it alone knows.
            problem = check_image(picture) if picture is not None else None
            if problem is not None:
                raise BadPicture(problem.reason, problem.values, picture=which)
        try:
            photo = _open(content, "photo")
            key = self._pace_key(job)
            pace = self._recent_pace(key)
            warm = api.engine_loaded()  # else the time taken includes importing torch and the model code
            started = self.clock()
            if job.kind == Kind.PRESET:
                assert job.preset is not None
                # Presets work at the photo's own resolution, capped at the size the user chose for files.
                photo = imageio.resize_long_side(photo, min(max(photo.size), max(job.size, 2048)))
                result = api.apply_preset(
                    photo, job.preset, strength=job.strength.weight, progress=report, should_cancel=should_cancel,
                    pace=pace,
                )  # fmt: skip
                expected = api.expected_seconds(photo, preset_id=job.preset)
            else:
                # A famous painting ships with the code; a picture of the user's own was downloaded.
                style = paintings.picture_bytes(job.painting) if job.painting else style
                mix = paintings.picture_bytes(job.mix_painting) if job.mix_painting else mix
                assert style is not None
                result = api.stylize(
                    photo,
                    _open(style, "style"),
                    quality=_quality(job),
                    size=job.size,
                    strength=job.strength.weight,
                    keep_colors=job.keep_colors,
                    progress=report,
                    should_cancel=should_cancel,
                    mix=None if mix is None else imageio.open_image(mix),
                    mix_share=job.mix_ratio.second_share if job.mix_ratio else 0.5,
                    pace=pace,
                )
                expected = api.expected_seconds(photo, quality=_quality(job), size=job.size)
        except BadImage as error:
            raise BadPicture(REASONS[error.kind], error.values) from error
        except JobCancelled as error:
            raise Stopped() from error
        if warm:
            self._learn(key, self.clock() - started, expected)
        if job.as_file:
            return imageio.encode_png(result), f"stylebot-{job.job_id}.png"
        return imageio.encode_jpeg(result), f"stylebot-{job.job_id}.jpg"

    @staticmethod
    def _pace_key(job: Job) -> str:
        """What the job runs (its quality, or its preset's architecture), its size and this machine's path."""
        kind = f"preset:{registry.get_preset(job.preset).architecture}" if job.preset else _quality(job)
        return pace_key(kind, job.size, priors.current_path())

    def preview(self, job: Job, content: bytes, style: bytes | None, mix: bytes | None = None) -> bytes:
        """The preview strip: the photo at each strength (labelled with its share, which needs no translation)."""
        for picture in (content, style, mix):
            problem = check_image(picture) if picture is not None else None
            if problem is not None:
                raise BadPicture(problem.reason, problem.values)
        style = paintings.picture_bytes(job.painting) if job.painting else style
        mix = paintings.picture_bytes(job.mix_painting) if job.mix_painting else mix
        assert style is not None
        try:
            strip = api.preview_strip(
                imageio.open_image(content),
                imageio.open_image(style),
                strengths=[s.weight for s in Strength],
                labels=[f"{round(s.weight * 100)} %" for s in Strength],
                keep_colors=job.keep_colors,
                mix=None if mix is None else imageio.open_image(mix),
                mix_share=job.mix_ratio.second_share if job.mix_ratio else 0.5,
            )
        except BadImage as error:
            raise BadPicture("unusable") from error
        return imageio.encode_jpeg(strip)

    def preset_name(self, preset_id: str, language: str) -> str:
        from handler.adapters.presets import preset_catalog

        preset = next((p for p in preset_catalog() if p.id == preset_id), None)
        return preset.name(language) if preset else preset_id

    def painting_title(self, painting_id: str, language: str) -> str:
        from handler.adapters.paintings import painting_catalog

        painting = next((p for p in painting_catalog() if p.id == painting_id), None)
        return painting.title(language) if painting else painting_id
