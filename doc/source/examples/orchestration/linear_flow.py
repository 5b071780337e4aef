"""A linear flow in memory: requires/provides, rebind, inject and results.

Run it: ``python doc/source/examples/orchestration/linear_flow.py``.
"""

from nova import orchestration as orc


class Reserve(orc.Task):
    """Reserves ``amount`` units; the result is stored as 'reservation'."""

    default_provides = 'reservation'

    def execute(self, amount):  # requires 'amount', inferred
        return {'id': 'r-1', 'amount': amount}


class Charge(orc.Task):
    """Charges the reservation; ``currency`` is optional (has a default)."""

    default_provides = 'invoice'

    def execute(self, reservation, price, currency='EUR'):
        return {'total': reservation['amount'] * price, 'currency': currency}


class Ship(orc.Task):
    """Ships to ``address``, which the flow rebinds to 'customer_address'."""

    def execute(self, invoice, address):
        return 'shipped %s %s to %s' % (
            invoice['total'],
            invoice['currency'],
            address,
        )


def main():
    flow = orc.LinearFlow('order').add(
        Reserve(),
        Charge(inject={'price': 3}),  # a constant for this task only
        Ship(provides='receipt', rebind={'address': 'customer_address'}),
    )
    engine = orc.Engine(
        flow,
        store={'amount': 5, 'customer_address': 'Main St 1'},
        backend=orc.persistence.backend_from_url('memory://'),
    )
    engine.run()
    print('state:', engine.state)
    print('invoice:', engine.results['invoice'])
    print('receipt:', engine.results['receipt'])


if __name__ == '__main__':
    main()
