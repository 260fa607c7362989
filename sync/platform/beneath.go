package platform

// beneath finds the T (an optional store interface) behind st, through the
// sealing wrapper: SealStore hides the optional interfaces of the store it
// wraps. Only for what holds no applicant data in the clear to seal
// (supervision's facts name receipts, kiosks and staff, never a resident).
func beneath[T any](st Store) (T, bool) {
	for {
		if x, ok := st.(T); ok {
			return x, true
		}
		ss, ok := st.(*sealedStore)
		if !ok {
			var zero T
			return zero, false
		}
		st = ss.Store
	}
}
