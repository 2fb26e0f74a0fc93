"""Writes test/fixtures/transforms.json: torchvision's deterministic image transforms on a fixed
image, for test/data-transforms.test.ts. Run with Debian's python3-torch and python3-torchvision:
    /usr/bin/python3 tools/reference/make_transform_fixtures.py
"""
import json
import os

import torch
import torchvision.transforms.functional as TF

torch.manual_seed(0)
# float32-exact values in [0, 1]
img = (torch.rand(3, 8, 10, dtype=torch.float64) * 255).round() / 255
img = img.float()

cases = {
    "normalize": TF.normalize(img, [0.4, 0.5, 0.6], [0.2, 0.25, 0.3]),
    "center_crop_6x4": TF.center_crop(img, [6, 4]),
    "center_crop_12x11": TF.center_crop(img, [12, 11]),
    "resize_5x7": TF.resize(img, [5, 7], antialias=False),
    "resize_13x17": TF.resize(img, [13, 17], antialias=False),
    "grayscale": TF.rgb_to_grayscale(img),
    "brightness_1.3": TF.adjust_brightness(img, 1.3),
    "contrast_0.6": TF.adjust_contrast(img, 0.6),
    "saturation_1.7": TF.adjust_saturation(img, 1.7),
    "hue_0.2": TF.adjust_hue(img, 0.2),
    "hue_-0.35": TF.adjust_hue(img, -0.35),
    "blur_5_1.2": TF.gaussian_blur(img, [5, 5], [1.2, 1.2]),
    "hflip": TF.hflip(img),
}

out = {
    "image": {"shape": list(img.shape), "data": img.flatten().tolist()},
    "cases": {k: {"shape": list(v.shape), "data": v.flatten().tolist()} for k, v in cases.items()},
    "torch": torch.__version__,
}
path = os.path.join(os.path.dirname(__file__), "..", "..", "test", "fixtures", "transforms.json")
with open(path, "w") as f:
    json.dump(out, f)
print("wrote", path)
