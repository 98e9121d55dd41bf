package tokenizer

// Byte-level BPE (GPT-2 and its descendants) works on bytes, each shown as a
// printable rune so that vocabulary files stay readable text: the printable
// Latin-1 bytes stand for themselves and the other 68 (controls, space,
// soft hyphen...) are moved to U+0100 onwards, in byte order. This is
// bytes_to_unicode of OpenAI's encoder.py.

// byteRunes returns the rune standing for each byte.
func byteRunes() [256]rune {
	var m [256]rune
	n := 0
	for b := range 256 {
		if printableByte(byte(b)) {
			m[b] = rune(b)
		} else {
			m[b] = rune(256 + n)
			n++
		}
	}
	return m
}

func printableByte(b byte) bool {
	return ('!' <= b && b <= '~') || (0xA1 <= b && b <= 0xAC) || (0xAE <= b && b <= 0xFF)
}
