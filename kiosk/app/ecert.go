package app

import (
	"context"
	"errors"
	"time"

	"github.com/google/uuid"

	"onedoor/kiosk/flow"
	"onedoor/sync/api"
	"onedoor/sync/client"
)

// ECertQuerier asks the platform which of an item's materials the resident
// whose card was just read holds as e-certificates (issue 13);
// *client.Client has it. Optional: without it, or with the link down, the
// kiosk says it cannot check now and the resident scans.
type ECertQuerier interface {
	ECertQuery(ctx context.Context, q *api.ECertQueryRequest) (*api.ECertQueryResponse, error)
}

// ECertQueryTimeout bounds one query: a resident is waiting at the
// materials step, and scanning is always possible instead.
const ECertQueryTimeout = 5 * time.Second

// queryECerts runs a flow.QueryECerts effect. The session UUID is made
// here, fresh for each card read: the proof binds the read to this kiosk,
// this session and its time, and nothing else needs it.
func (a *App) queryECerts(e flow.QueryECerts) {
	q, online := a.d.ECerts, a.d.Online == nil || a.d.Online()
	if q == nil || !online {
		a.Dispatch(flow.ECertsUnavailable{Seq: e.Seq, Offline: true, Reason: "offline"})
		return
	}
	a.background(func(ctx context.Context) flow.Event {
		ctx, cancel := context.WithTimeout(ctx, ECertQueryTimeout)
		defer cancel()
		return ECertAnswer(ctx, q, e, uuid.NewString())
	})
}

// ECertAnswer asks the platform for e.IDNumber's certificates for e.ItemID
// and turns the answer into the flow's event: the e-certificate offers
// (reuse offers of earlier materials are not taken by this kiosk yet), or
// ECertsUnavailable — Offline when the platform could not be reached,
// refused when it answered no (e.g. 403 holder_proof).
func ECertAnswer(ctx context.Context, q ECertQuerier, e flow.QueryECerts, session string) flow.Event {
	resp, err := q.ECertQuery(ctx, &api.ECertQueryRequest{ItemID: e.ItemID, Session: session, IDNumber: e.IDNumber, CardReadAt: e.CardReadAt})
	if err != nil {
		var ae *client.APIError
		refused := errors.As(err, &ae) && ae.Status >= 400 && ae.Status < 500 && ae.Status != 408 && ae.Status != 429
		reason := "platform unreachable"
		if refused {
			reason = ae.Code
		}
		return flow.ECertsUnavailable{Seq: e.Seq, Offline: !refused, Reason: reason}
	}
	ev := flow.ECertsFound{Seq: e.Seq}
	for _, o := range resp.Offers {
		if o.Kind != api.OfferECert {
			continue
		}
		fo := flow.ECertOffer{MaterialID: o.MaterialID, Number: o.Number, NumberMasked: o.NumberMasked,
			TypeName: o.TypeName, Agency: o.Agency, IssuedOn: o.IssuedOn, ValidUntil: o.ValidUntil, TypeCode: o.TypeCode}
		for _, f := range o.Fields {
			fo.Fields = append(fo.Fields, flow.ECertField{Name: f.Name, Value: f.Value})
		}
		ev.Offers = append(ev.Offers, fo)
	}
	return ev
}

type lateECerts struct{ l *Late }

func (q lateECerts) ECertQuery(ctx context.Context, r *api.ECertQueryRequest) (*api.ECertQueryResponse, error) {
	if err := q.l.wait(ctx); err != nil {
		return nil, err
	}
	if q.l.deps.ECerts == nil {
		return nil, errors.New("app: no platform configured")
	}
	return q.l.deps.ECerts.ECertQuery(ctx, r)
}
