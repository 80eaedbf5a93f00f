//! `open_input`: every demuxer of clipstream opens its file here, with ffmpeg held to the `file` protocol and to
//! the container formats of ordinary videos. A file that is really a playlist or a list of other files (HLS,
//! DASH, concat, image sequences) is refused before ffmpeg reads anything it names, so an untrusted download can
//! never make ffmpeg open a local file or another URL.

use std::path::Path;

use ffmpeg_next::Dictionary;
use ffmpeg_next::format::context::Input;

use crate::error::MediaError;
use crate::probe::init;

/// The demuxers allowed (ffmpeg names; a file detected as anything else fails with `probe.not_a_video`).
pub const ALLOWED_FORMATS: &str = "mov,mp4,m4a,3gp,3g2,mj2,matroska,webm,avi,mpeg,mpegts,mpegvideo,m4v,flv,ogg,asf,\
                                   h264,hevc,mxf,nut,dv,gif,yuv4mpegpipe,jpeg_pipe";

/// Opens `path`, which must be a regular file (a FIFO or device would block or never end), as a video container
/// under the protocol and format allow-lists.
pub fn open_input(path: &Path) -> Result<Input, MediaError> {
    // A missing file is left to ffmpeg, which reports it as not a video.
    if std::fs::metadata(path).is_ok_and(|meta| !meta.is_file()) {
        return Err(MediaError::NotAFile { path: path.to_path_buf() });
    }
    init();
    let mut options = Dictionary::new();
    options.set("protocol_whitelist", "file");
    options.set("format_whitelist", ALLOWED_FORMATS);
    ffmpeg_next::format::input_with_dictionary(path, options)
        .map_err(|source| MediaError::Open { path: path.to_path_buf(), source })
}

#[cfg(test)]
mod tests {
    use clipstream_schemas::error::StageError;

    use super::*;

    #[test]
    fn playlists_and_lists_of_files_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let secret = dir.path().join("secret.ts");
        std::fs::write(&secret, vec![0x47u8; 188 * 20]).unwrap();
        let cases = [
            (
                "list.m3u8",
                format!(
                    "#EXTM3U\n#EXT-X-TARGETDURATION:10\n#EXTINF:10,\nfile://{}\n#EXT-X-ENDLIST\n",
                    secret.display()
                ),
            ),
            (
                "abs.m3u8",
                format!("#EXTM3U\n#EXT-X-TARGETDURATION:10\n#EXTINF:10,\n{}\n#EXT-X-ENDLIST\n", secret.display()),
            ),
            ("list.ffconcat", format!("ffconcat version 1.0\nfile '{}'\n", secret.display())),
            ("dash.mpd", "<?xml version=\"1.0\"?><MPD xmlns=\"urn:mpeg:dash:schema:mpd:2011\"></MPD>".to_string()),
        ];
        for (name, body) in cases {
            let path = dir.path().join(name);
            std::fs::write(&path, body).unwrap();
            let error = open_input(&path).map(|_| ()).unwrap_err();
            assert_eq!(error.code(), "probe.not_a_video", "{name}");
        }
    }

    #[test]
    fn only_regular_files_are_opened() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("fifo.mp4");
        let made = std::process::Command::new("mkfifo").arg(&fifo).status().unwrap();
        assert!(made.success());
        for path in [fifo.as_path(), Path::new("/dev/zero"), dir.path()] {
            let error = open_input(path).map(|_| ()).unwrap_err();
            assert_eq!(error.code(), "probe.not_a_file", "{}", path.display());
        }
    }

    #[test]
    fn other_protocols_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let inner = dir.path().join("a.mp4");
        std::fs::write(&inner, b"x").unwrap();
        for url in [format!("concat:{}|{}", inner.display(), inner.display()), "http://127.0.0.1:9/v.mp4".into()] {
            assert!(open_input(Path::new(&url)).is_err(), "{url}");
        }
    }
}
