//! ffmpeg-next stages of clipstream: probe, scene_cut (PySceneDetect 0.7 ContentDetector semantics), clip
//! cutting, frame sampling, and the synthetic multi-shot video writer.
