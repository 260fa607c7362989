package assets

import (
	"embed"
	"io/fs"
)

// voiceFiles are the kiosk's spoken prompts, rendered at development time
// by kiosk/internal/voicegen with espeak-ng: voice/<cmn|yue|en>/<key>.wav
// (16 kHz mono 8-bit PCM), voice/chime.wav and voice/manifest.tsv, the
// hash of each file's text. kiosk/voice reads them; a service hall's
// recordings in the override folder take precedence.
//
//go:embed voice
var voiceFiles embed.FS

// Voice is the prompt audio, rooted at the voice folder ("cmn/home.wav").
func Voice() fs.FS {
	sub, err := fs.Sub(voiceFiles, "voice")
	if err != nil {
		panic(err) // "voice" is a valid path; fs.Sub fails only on invalid ones
	}
	return sub
}
