# Copyright (c) mmps contributors. All rights reserved.
from typing import List, Optional, Sequence, Tuple, Union

import mmcv
import numpy as np
from mmdet.visualization import DetLocalVisualizer
from mmengine.dist import master_only

from mmps.registry import VISUALIZERS

Color = Tuple[int, int, int]
ImageLike = Union[str, np.ndarray]


def _load_rgb(image: ImageLike) -> np.ndarray:
    """An RGB uint8 array of an image path or of an RGB array."""
    if isinstance(image, str):
        return mmcv.imread(image, channel_order='rgb')
    return np.asarray(image)


@VISUALIZERS.register_module()
class PersonSearchVisualizer(DetLocalVisualizer):
    """Draw a search: the query crop beside its best gallery matches.

    One row of panels, all ``panel_height`` pixels high: the query crop
    (framed in ``query_color``), then each match's gallery image with the
    matched box, its rank and similarity. Where the truth is known, a match
    is framed green (the query person) or red (someone else); unknown ones
    get ``unknown_color``.

    Args:
        name (str): Name of the instance. Defaults to 'visualizer'.
        panel_height (int): Height of every panel. Defaults to 256.
        gap (int): White pixels between panels. Defaults to 8.
        frame_width (int): Width of the frame of each panel. Defaults to 5.
        query_color (tuple[int]): RGB frame of the query.
        correct_color (tuple[int]): RGB frame of a correct match.
        wrong_color (tuple[int]): RGB frame of a wrong match.
        unknown_color (tuple[int]): RGB frame of a match without truth.
        **kwargs: Arguments of :class:`mmdet.visualization.
            DetLocalVisualizer` (``vis_backends``, ``save_dir``,
            ``line_width``, ...).
    """

    def __init__(self,
                 name: str = 'visualizer',
                 panel_height: int = 256,
                 gap: int = 8,
                 frame_width: int = 5,
                 query_color: Color = (30, 110, 255),
                 correct_color: Color = (0, 190, 0),
                 wrong_color: Color = (230, 0, 0),
                 unknown_color: Color = (255, 190, 0),
                 **kwargs) -> None:
        super().__init__(name=name, **kwargs)
        self.panel_height = panel_height
        self.gap = gap
        self.frame_width = frame_width
        self.query_color = tuple(query_color)
        self.correct_color = tuple(correct_color)
        self.wrong_color = tuple(wrong_color)
        self.unknown_color = tuple(unknown_color)

    def _panel(self, image: np.ndarray, box: Optional[np.ndarray], label: str,
               color: Color) -> np.ndarray:
        """Resize to the panel height; draw the box, the label, a frame."""
        height, width = image.shape[:2]
        scale = self.panel_height / height
        new_width = max(1, int(round(width * scale)))
        panel = mmcv.imresize(image, (new_width, self.panel_height))
        boxes = np.zeros((0, 4)) if box is None else np.asarray(
            box, dtype=np.float64).reshape(1, 4) * scale
        panel = self.draw_overlay(
            panel,
            boxes,
            label,
            color,
            font_size=max(8, self.panel_height // 18),
            margin=self.frame_width + 2)
        f = self.frame_width
        panel[:f], panel[-f:] = color, color
        panel[:, :f], panel[:, -f:] = color, color
        return panel

    def draw_overlay(self,
                     image: np.ndarray,
                     boxes: np.ndarray,
                     label: str,
                     color: Color,
                     font_size: int,
                     margin: int = 2) -> np.ndarray:
        """Draw boxes and a label in the top-left corner on an image.

        Only the pixels under the drawing change: each box is drawn on a
        crop around it and the label on a corner of the image, then pasted
        back, in that order (the label stays readable over a box). Drawing
        the whole image would be the same picture, but matplotlib renders
        every pixel of the canvas: 0.5 s for a 1920 x 1080 frame against
        0.1 s for the crops of a person's box and a 23-character label
        (measured on a busy CPU), which matters for video clips.

        Args:
            image (np.ndarray): RGB uint8, (H, W, 3); not changed.
            boxes (np.ndarray): Boxes ``x1, y1, x2, y2`` in its pixels,
                (K, 4); parts outside the image are not drawn.
            label (str): The text, white on black; empty for none.
            color (tuple[int]): RGB of the boxes.
            font_size (int): Height of the text in pixels.
            margin (int): Pixels between the label and the image's top
                and left edges. Defaults to 2.

        Returns:
            np.ndarray: The drawing, RGB uint8, (H, W, 3).
        """
        drawn = np.array(image, dtype=np.uint8, copy=True)
        height, width = drawn.shape[:2]
        boxes = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
        boxes = np.clip(boxes, 0, [width, height, width, height])
        # the strokes are line_width pixels wide, centred on the box edges
        reach = int(np.ceil(self.line_width)) + 2
        for box in boxes:
            x1, y1 = np.maximum(np.floor(box[:2]).astype(int) - reach, 0)
            x2, y2 = np.minimum(
                np.ceil(box[2:]).astype(int) + reach, [width, height])
            self.set_image(drawn[y1:y2, x1:x2])
            self.draw_bboxes(
                (box - [x1, y1, x1, y1]).reshape(1, 4),
                edge_colors=[color],
                line_widths=self.line_width,
                alpha=1.0)
            drawn[y1:y2, x1:x2] = self.get_image()
        if label:
            # generous bounds of the text box (its pad is half a font size
            # around the text; a character is narrower than a font size)
            bottom = min(height, margin + 3 * font_size)
            right = min(width, margin + font_size * (len(label) + 2))
            self.set_image(drawn[:bottom, :right])
            self.draw_texts(
                label,
                np.array([[margin, margin]]),
                colors='white',
                font_sizes=font_size,
                bboxes=[{
                    'facecolor': 'black',
                    'alpha': 0.7,
                    'pad': 0.5,
                    'edgecolor': 'none'
                }])
            drawn[:bottom, :right] = self.get_image()
        return drawn

    def draw_search(self,
                    query_image: ImageLike,
                    query_box: Sequence[float],
                    gallery_images: Sequence[ImageLike],
                    gallery_boxes: Sequence[Sequence[float]],
                    similarities: Sequence[float],
                    correct: Optional[Sequence[Optional[bool]]] = None,
                    labels: Optional[Sequence[str]] = None) -> np.ndarray:
        """Draw a query and its ranked matches as one RGB image.

        Args:
            query_image (str | np.ndarray): The query image (path or RGB
                array (H, W, 3)).
            query_box (Sequence[float]): The query box ``x1, y1, x2, y2``.
            gallery_images (Sequence[str | np.ndarray]): The image of each
                match, best first.
            gallery_boxes (Sequence): The box of each match, (K, 4).
            similarities (Sequence[float]): The similarity of each match.
            correct (Sequence[bool | None], optional): Whether each match is
                the query person; None where unknown.
            labels (Sequence[str], optional): The text on each match.
                Defaults to its rank and similarity (``#1 0.873``).

        Returns:
            np.ndarray: The drawing, RGB uint8 of height ``panel_height``.
        """
        if not len(gallery_images) == len(gallery_boxes) == len(similarities):
            raise ValueError(
                f'{len(gallery_images)} images, {len(gallery_boxes)} boxes '
                f'and {len(similarities)} similarities: one of each per match')
        correct = [None] * len(gallery_images) if correct is None else correct
        if labels is None:
            labels = [
                f'#{rank} {float(similarity):.3f}'
                for rank, similarity in enumerate(similarities, 1)
            ]
        if len(labels) != len(gallery_images):
            raise ValueError(f'{len(labels)} labels for '
                             f'{len(gallery_images)} matches')
        image = _load_rgb(query_image)
        x1, y1, x2, y2 = np.round(np.asarray(query_box)).astype(int)
        x1, y1 = max(x1, 0), max(y1, 0)
        crop = image[y1:max(y2, y1 + 1), x1:max(x2, x1 + 1)]
        panels = [self._panel(crop, None, 'query', self.query_color)]
        colors = {
            True: self.correct_color,
            False: self.wrong_color,
            None: self.unknown_color
        }
        for gallery_image, box, label, is_correct in zip(
                gallery_images, gallery_boxes, labels, correct):
            color = colors[None if is_correct is None else bool(is_correct)]
            panels.append(
                self._panel(_load_rgb(gallery_image), box, label, color))
        spacer = np.full((self.panel_height, self.gap, 3), 255, np.uint8)
        row: List[np.ndarray] = []
        for panel in panels:
            row += [panel, spacer]
        return np.concatenate(row[:-1], axis=1)

    def draw_person_ids(self, image: ImageLike, bboxes: np.ndarray,
                        person_ids: np.ndarray) -> np.ndarray:
        """Draw person boxes labelled with their identities.

        Each identity gets its own colour (the same in every image);
        unlabeled persons (id < 0) are grey and marked ``?``.

        Args:
            image (str | np.ndarray): The image (path or RGB array).
            bboxes (np.ndarray): ``x1, y1, x2, y2`` boxes, (N, 4).
            person_ids (np.ndarray): Identity of each box, (N, ).

        Returns:
            np.ndarray: The drawing, RGB uint8, of the image's size.
        """
        bboxes = np.asarray(bboxes, dtype=np.float32).reshape(-1, 4)
        person_ids = np.asarray(person_ids).reshape(-1)
        self.set_image(_load_rgb(image))
        if len(bboxes):
            colors = [self.identity_color(int(i)) for i in person_ids]
            self.draw_bboxes(
                bboxes,
                edge_colors=colors,
                line_widths=self.line_width,
                alpha=1.0)
            self.draw_texts(
                [f'id {int(i)}' if i >= 0 else '?' for i in person_ids],
                bboxes[:, :2] + self.line_width,
                colors='white',
                font_sizes=max(8, int(self.get_image().shape[0] // 40)),
                bboxes=[{
                    'facecolor': [c / 255 for c in color],
                    'alpha': 0.8,
                    'pad': 0.5,
                    'edgecolor': 'none'
                } for color in colors])
        return self.get_image()

    @staticmethod
    def identity_color(person_id: int) -> Color:
        """A colour of an identity: fixed per id, grey when unlabeled."""
        if person_id < 0:
            return (128, 128, 128)
        rng = np.random.default_rng(person_id)
        return tuple(int(v) for v in rng.integers(40, 256, 3))

    @master_only
    def add_search(self,
                   name: str,
                   query_image: ImageLike,
                   query_box: Sequence[float],
                   gallery_images: Sequence[ImageLike],
                   gallery_boxes: Sequence[Sequence[float]],
                   similarities: Sequence[float],
                   correct: Optional[Sequence[Optional[bool]]] = None,
                   labels: Optional[Sequence[str]] = None,
                   show: bool = False,
                   wait_time: float = 0,
                   out_file: Optional[str] = None,
                   step: int = 0) -> np.ndarray:
        """Draw a search and show it, write it, or send it to the backends.

        Like :meth:`DetLocalVisualizer.add_datasample`: with ``out_file``
        the drawing is written there (and not sent to the backends);
        otherwise it is added to the visualizer's backends under ``name``.

        Args:
            name (str): The image's name for the backends.
            query_image, query_box, gallery_images, gallery_boxes,
            similarities, correct, labels: See :meth:`draw_search`.
            show (bool): Show the drawing in a window. Defaults to False.
            wait_time (float): Seconds to show it. Defaults to 0.
            out_file (str, optional): File to write it to.
            step (int): Global step for the backends. Defaults to 0.

        Returns:
            np.ndarray: The drawing, RGB.
        """
        drawn = self.draw_search(query_image, query_box, gallery_images,
                                 gallery_boxes, similarities, correct, labels)
        self.set_image(drawn)
        if show:
            self.show(drawn, win_name=name, wait_time=wait_time)
        if out_file is not None:
            mmcv.imwrite(mmcv.rgb2bgr(drawn), out_file)
        else:
            self.add_image(name, drawn, step)
        return drawn
