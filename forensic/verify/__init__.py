"""Whole-case verification and its status objects."""

from forensic.problem import Problem
from forensic.verify.case_check import (
    VerificationReport,
    record_verification,
    verify_case,
)

__all__ = ["Problem", "VerificationReport", "record_verification", "verify_case"]
