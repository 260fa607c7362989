package idcard

import (
	"errors"
	"fmt"
)

// Sentinel errors for SAM status codes callers act on. A *StatusError
// unwraps to one of them.
var (
	ErrNoCard          = errors.New("idcard: no card (or card already read) on the reader") // 0x80
	ErrSelectFailed    = errors.New("idcard: card select failed")                           // 0x81
	ErrReadFailed      = errors.New("idcard: card read failed")                             // 0x41: moved or not selected
	ErrNoContent       = errors.New("idcard: item has no content")                          // 0x91
	ErrUnknownCardType = errors.New("idcard: unknown card type")                            // 0x40
	ErrAuthFailed      = errors.New("idcard: card/SAM authentication failed")               // 0x31 0x32 0x33
	ErrRejected        = errors.New("idcard: reader rejected the command frame")            // 0x10 0x11 0x21
	ErrSAMFault        = errors.New("idcard: SAM module fault")                             // 0x23 0x24 0x47 0x60 0x66 and unknown codes
)

// StatusError is a SAM answer whose SW3 is not success. Judge by SW3 only;
// SW1/SW2 pass the card's APDU status through and are kept for the trace.
type StatusError struct {
	Cmd, Para     byte
	SW1, SW2, SW3 byte
}

// sw3Text describes a status code in the SAM documentation's words.
func sw3Text(sw3 byte) (string, bool) {
	switch sw3 {
	case 0x10:
		return "接收业务终端数据的校验和错 host frame checksum error", true
	case 0x11:
		return "接收业务终端数据的长度错 host frame length error", true
	case 0x21:
		return "命令错误 bad command", true
	case 0x23:
		return "越权操作 privilege violation", true
	case 0x24:
		return "无法识别的错误 unknown error", true
	case 0x31:
		return "证/卡认证 SAM 失败 card failed to authenticate SAM", true
	case 0x32:
		return "SAM 认证证/卡失败 SAM failed to authenticate card", true
	case 0x33:
		return "信息验证错误 information verification error", true
	case 0x40:
		return "无法识别的卡类型 unknown card type", true
	case 0x41:
		return "读证/卡操作失败 card read failed", true
	case 0x47:
		return "取随机数失败 get challenge failed", true
	case 0x60:
		return "SAM 自检失败 SAM self-test failed", true
	case 0x66:
		return "SAM 未经授权 SAM not authorised", true
	case 0x80:
		return "寻找证/卡失败 no card", true
	case 0x81:
		return "选取证/卡失败 card select failed", true
	case 0x91:
		return "证/卡中此项无内容 item has no content", true
	}
	return "unknown status", false
}

func (e *StatusError) Error() string {
	text, _ := sw3Text(e.SW3)
	return fmt.Sprintf("idcard: command %02X %02X: SW3 %02X %s (SW1 %02X SW2 %02X)", e.Cmd, e.Para, e.SW3, text, e.SW1, e.SW2)
}

// Unwrap maps the code to the sentinel callers test with errors.Is.
func (e *StatusError) Unwrap() error {
	switch e.SW3 {
	case 0x80:
		return ErrNoCard
	case 0x81:
		return ErrSelectFailed
	case 0x41:
		return ErrReadFailed
	case 0x91:
		return ErrNoContent
	case 0x40:
		return ErrUnknownCardType
	case 0x31, 0x32, 0x33:
		return ErrAuthFailed
	case 0x10, 0x11, 0x21:
		return ErrRejected
	default:
		return ErrSAMFault
	}
}
