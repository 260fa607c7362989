// Package voice speaks the kiosk's prompts: a short recorded sentence per
// resident screen and per resident-facing error, in Mandarin (cmn),
// Cantonese (yue) or English (en).
//
// The parts, from the file to the loudspeaker:
//
//   - Library finds the audio of a prompt key in a voice: a file of the same
//     name in the service hall's override folder (a recording of a human
//     voice) wins over the file rendered at build time and embedded from
//     assets/voice (kiosk/internal/voicegen renders those with espeak-ng).
//   - Guide decides what to say and when: one prompt at a time, a new prompt
//     cutting off the one playing, nothing at all while the voice is
//     switched off, and the last prompt again on 重听 (Repeat). Its methods
//     return at once; playing happens on a goroutine of its own, so the UI
//     never waits for a loudspeaker.
//   - Player is what the Guide needs to make sound; Aplay plays through ALSA
//     by running aplay from alsa-utils, and keeps the sound device's state
//     ("ok", "absent", "error: …") for the technician's doctor report and
//     the platform heartbeat. A missing or broken sound device costs the
//     resident the voice and nothing else.
//
// Prompt keys live in the translation catalogs (kiosk/i18n) under [voice]:
// voice.<step> for each screen (flow.Step's name) and voice.err.<name> for
// each err.<name> message, so the words are checked like every other text.
// The audio file of key voice.X is X.wav in each voice's folder.
package voice
